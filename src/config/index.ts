import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { LOG_LEVELS } from '../logger/index.ts';
import { UtxodError } from '../util/errors.ts';

export class ConfigError extends UtxodError<'INVALID_CONFIG'> {
  constructor(key: string, expected: string, source: string, got?: unknown) {
    super(
      'INVALID_CONFIG',
      `config ${key} (from ${source}) must be ${expected}${got === undefined ? '' : `, got ${JSON.stringify(got)}`}`,
      { key, source },
    );
  }
}

/** Everything an operator can set. File keys are these names; env vars are UTXOD_ + SNAKE_CASE. */
export interface NodeConfig {
  readonly datadir: string;
  readonly logLevel: LevelWithSilent;
  readonly logFormat: 'json' | 'pretty' | 'auto';
  /** Milliseconds between blocks proposed by this validator. */
  readonly blockIntervalMs: number;
  /** Produce blocks with no transactions (keeps time moving on an idle devnet). */
  readonly emptyBlocks: boolean;
  readonly utxoCacheMb: number;
  readonly mempoolMaxMb: number;
  /** Base units per 1000 bytes below which transactions are not relayed or mined. */
  readonly minRelayFeeRate: bigint;
  /** Signature verification worker threads; 0 verifies on the main thread. */
  readonly verifyWorkers: number;
  readonly signatureCacheEntries: number;
  /** fsync every block batch (survives power loss, not just process death). */
  readonly syncWrites: boolean;
  readonly rpcHost: string;
  readonly rpcPort: number;
}

export const CONFIG_FILE = 'utxod.json';

export function defaultDatadir(): string {
  return process.env['UTXOD_DATADIR'] ?? join(homedir(), '.utxod');
}

export const DEFAULT_CONFIG: Omit<NodeConfig, 'datadir'> = {
  logLevel: 'info',
  logFormat: 'auto',
  blockIntervalMs: 1000,
  emptyBlocks: true,
  utxoCacheMb: 256,
  mempoolMaxMb: 64,
  minRelayFeeRate: 1000n,
  verifyWorkers: 2,
  signatureCacheEntries: 200_000,
  syncWrites: true,
  rpcHost: '127.0.0.1',
  rpcPort: 8645,
};

type Parser = (value: unknown, key: string, source: string) => unknown;

const int =
  (min: number, max: number): Parser =>
  (value, key, source) => {
    const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
    if (!Number.isSafeInteger(n) || (n as number) < min || (n as number) > max) {
      throw new ConfigError(key, `an integer from ${min} to ${max}`, source, value);
    }
    return n;
  };

const bool: Parser = (value, key, source) => {
  if (value === true || value === 'true' || value === '1') return true;
  if (value === false || value === 'false' || value === '0') return false;
  throw new ConfigError(key, 'true or false', source, value);
};

const oneOf =
  (options: readonly string[]): Parser =>
  (value, key, source) => {
    if (typeof value !== 'string' || !options.includes(value)) {
      throw new ConfigError(key, `one of ${options.join(', ')}`, source, value);
    }
    return value;
  };

const feeRate: Parser = (value, key, source) => {
  const text = typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : value;
  if (typeof text !== 'string' || !/^\d{1,15}$/.test(text)) {
    throw new ConfigError(key, 'a whole number of base units per 1000 bytes', source, value);
  }
  return BigInt(text);
};

const host: Parser = (value, key, source) => {
  if (typeof value !== 'string' || !/^[A-Za-z0-9.:-]{1,253}$/.test(value)) {
    throw new ConfigError(key, 'a host name or IP address', source, value);
  }
  return value;
};

const PARSERS: Record<keyof Omit<NodeConfig, 'datadir'>, Parser> = {
  logLevel: oneOf(LOG_LEVELS),
  logFormat: oneOf(['json', 'pretty', 'auto']),
  blockIntervalMs: int(50, 3_600_000),
  emptyBlocks: bool,
  utxoCacheMb: int(1, 1_048_576),
  mempoolMaxMb: int(1, 65_536),
  minRelayFeeRate: feeRate,
  verifyWorkers: int(0, 256),
  signatureCacheEntries: int(0, 100_000_000),
  syncWrites: bool,
  rpcHost: host,
  rpcPort: int(0, 65_535),
};

export const CONFIG_KEYS = Object.keys(PARSERS) as Array<keyof typeof PARSERS>;

export function envName(key: string): string {
  return `UTXOD_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

/**
 * Resolves the configuration: defaults, then `<datadir>/utxod.json`, then
 * UTXOD_* environment variables, then command-line flags. Every value is
 * validated; an error names the key, where it came from and the expected form.
 */
export function loadConfig(
  datadir: string,
  flags: Partial<Record<keyof typeof PARSERS, unknown>> = {},
  env: NodeJS.ProcessEnv = process.env,
): NodeConfig {
  const config: Record<string, unknown> = { ...DEFAULT_CONFIG, datadir: resolve(datadir) };
  const file = join(datadir, CONFIG_FILE);
  if (existsSync(file)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new ConfigError('(file)', `valid JSON (${(error as Error).message})`, file);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('(file)', 'a JSON object', file);
    }
    for (const [key, value] of Object.entries(parsed)) {
      const parse = PARSERS[key as keyof typeof PARSERS];
      if (parse === undefined)
        throw new ConfigError(key, `one of the known keys (${CONFIG_KEYS.join(', ')})`, file);
      config[key] = parse(value, key, file);
    }
  }
  for (const key of CONFIG_KEYS) {
    const value = env[envName(key)];
    if (value !== undefined && value !== '')
      config[key] = PARSERS[key](value, key, `env ${envName(key)}`);
  }
  for (const [key, value] of Object.entries(flags)) {
    if (value === undefined) continue;
    const parse = PARSERS[key as keyof typeof PARSERS];
    if (parse === undefined) throw new ConfigError(key, 'a known option', 'command line');
    config[key] = parse(value, key, 'command line');
  }
  return config as unknown as NodeConfig;
}

/** The config file `utxod init` writes: every key with its default, so operators see what exists. */
export function defaultConfigFile(): string {
  const doc: Record<string, unknown> = {};
  for (const key of CONFIG_KEYS) {
    const value = DEFAULT_CONFIG[key];
    doc[key] = typeof value === 'bigint' ? value.toString() : value;
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
