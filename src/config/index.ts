import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LevelWithSilent } from 'pino';
import { LOG_LEVELS } from '../logger/index.ts';
import { UtxodError } from '../util/index.ts';

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
  /** Routes served without a token besides those declaring auth 'public', as "METHOD /url/pattern". */
  readonly publicRoutes: readonly string[];
  /** Lifetime of access tokens from POST /api/v1/auth/token and /refresh. */
  readonly authAccessTokenTtlMs: number;
  readonly authRefreshTokenTtlMs: number;
  /** How long a rotated-out token signing key keeps verifying. */
  readonly authSigningKeyOverlapMs: number;
  /** Failed API-key or refresh attempts per key id / client IP within the window before a lockout. */
  readonly authLockoutAttempts: number;
  readonly authLockoutWindowMs: number;
  readonly authLockoutDurationMs: number;
  /** scrypt cost of new API key hashes: N = 2^authScryptLogN. */
  readonly authScryptLogN: number;
  /** Access-token signatures: EdDSA (asymmetric, keys published as JWKS) or HS256 (node-local secret). */
  readonly authTokenAlgorithm: 'EdDSA' | 'HS256';
  readonly rateLimitEnabled: boolean;
  readonly rateLimitWindowMs: number;
  /** Requests per window: unauthenticated per IP, then per subject for each role. */
  readonly rateLimitAnonymous: number;
  readonly rateLimitReader: number;
  readonly rateLimitOperator: number;
  readonly rateLimitAdmin: number;
  /** Per client on 'submit' routes, and per IP on 'auth' routes. */
  readonly rateLimitSubmit: number;
  readonly rateLimitAuth: number;
  /** The Prometheus /metrics server: its own port, loopback by default. */
  readonly metricsHost: string;
  readonly metricsPort: number;
  /** Browser origins allowed to call the API (CORS); empty: CORS off. */
  readonly corsOrigins: readonly string[];
  /** Proxies (IPs or CIDRs) whose X-Forwarded-For/-Proto the API believes; empty: none (default). */
  readonly trustProxy: readonly string[];
  /** Largest API request body, bytes. */
  readonly bodyLimit: number;
  /** /health/ready fails when the tip is older than this; 0 disables the check. */
  readonly readyMaxTipAgeMs: number;
  /** Address the p2p host listens on (0.0.0.0: every interface). */
  readonly p2pHost: string;
  /** TCP port of the p2p host; 0 picks a free one. */
  readonly p2pPort: number;
  /** Peers to dial at start and keep connected: multiaddrs ending in /p2p/<peer id>. */
  readonly bootstrap: readonly string[];
  readonly maxConnections: number;
  /** Most inbound p2p connections from one IP address. */
  readonly maxInboundPerIp: number;
  /** How long a misbehaving peer stays banned. */
  readonly banDurationMs: number;
  /**
   * TEST ONLY (chaos clock-skew scenario): shifts this process's wall clock
   * by this many milliseconds, as a host with a wrong clock would. Bounded
   * to +-MAX_CLOCK_OFFSET_MS; never set it on a real node.
   */
  readonly clockOffsetMs: number;
  /**
   * Write a snapshot every this many blocks; 0 never, -1 (default) decides by
   * role: off on validators (a snapshot reads the whole UTXO set, which must
   * not compete with signing), every 1000 blocks on other nodes (seeds).
   */
  readonly snapshotInterval: number;
  /** Snapshots kept on disk; older ones are deleted. */
  readonly snapshotKeep: number;
  /** Size of a snapshot chunk, the unit fetched from one peer during state sync. */
  readonly snapshotChunkBytes: number;
}

/** Largest test-only clock offset: a few times the tolerated block-time drift, not hours. */
export const MAX_CLOCK_OFFSET_MS = 300_000;

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
  publicRoutes: [],
  authAccessTokenTtlMs: 15 * 60_000,
  authRefreshTokenTtlMs: 7 * 24 * 3_600_000,
  authSigningKeyOverlapMs: 3_600_000,
  authLockoutAttempts: 5,
  authLockoutWindowMs: 15 * 60_000,
  authLockoutDurationMs: 15 * 60_000,
  authScryptLogN: 15,
  authTokenAlgorithm: 'EdDSA',
  rateLimitEnabled: true,
  rateLimitWindowMs: 60_000,
  rateLimitAnonymous: 300,
  rateLimitReader: 600,
  rateLimitOperator: 1200,
  rateLimitAdmin: 3000,
  rateLimitSubmit: 60,
  rateLimitAuth: 20,
  metricsHost: '127.0.0.1',
  metricsPort: 9645,
  corsOrigins: [],
  trustProxy: [],
  bodyLimit: 2 * 1024 * 1024 + 4096,
  readyMaxTipAgeMs: 120_000,
  p2pHost: '0.0.0.0',
  p2pPort: 8646,
  bootstrap: [],
  maxConnections: 50,
  maxInboundPerIp: 8,
  banDurationMs: 24 * 3_600_000,
  clockOffsetMs: 0,
  snapshotInterval: -1,
  snapshotKeep: 2,
  snapshotChunkBytes: 1024 * 1024,
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

const signedInt =
  (bound: number): Parser =>
  (value, key, source) => {
    const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;
    if (!Number.isSafeInteger(n) || Math.abs(n as number) > bound) {
      throw new ConfigError(key, `an integer from -${bound} to ${bound}`, source, value);
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

const origins: Parser = (value, key, source) => {
  const list = typeof value === 'string' ? value.split(',').map((o) => o.trim()) : value;
  if (
    !Array.isArray(list) ||
    !list.every(
      (o) => typeof o === 'string' && /^https?:\/\/[A-Za-z0-9.-]{1,253}(:\d{1,5})?$/.test(o),
    )
  ) {
    throw new ConfigError(
      key,
      'origins like https://wallet.example (comma-separated)',
      source,
      value,
    );
  }
  return list.filter((o) => o !== '');
};

/** "METHOD /url/pattern" entries (publicRoutes); a string is split on commas (env vars). */
const routePatterns: Parser = (value, key, source) => {
  const list = typeof value === 'string' ? value.split(',').map((r) => r.trim()) : value;
  if (
    !Array.isArray(list) ||
    !list.every(
      (r) => typeof r === 'string' && (r === '' || /^(GET|POST|PUT|PATCH|DELETE) \/\S*$/.test(r)),
    )
  ) {
    throw new ConfigError(
      key,
      'routes like "GET /api/v1/blocks/:id" (comma-separated)',
      source,
      value,
    );
  }
  return list.filter((r) => r !== '');
};

/** p2p multiaddrs with a peer id (bootstrap); a string is split on commas (env vars). */
const peerAddrs: Parser = (value, key, source) => {
  const list = typeof value === 'string' ? value.split(',').map((a) => a.trim()) : value;
  if (
    !Array.isArray(list) ||
    !list.every(
      (a) =>
        typeof a === 'string' &&
        (a === '' ||
          /^\/(ip4|ip6|dns|dns4|dns6)\/[A-Za-z0-9.:-]{1,253}\/tcp\/\d{1,5}\/p2p\/[1-9A-HJ-NP-Za-km-z]{40,80}$/.test(
            a,
          )),
    )
  ) {
    throw new ConfigError(
      key,
      'multiaddrs like /ip4/10.0.0.1/tcp/8646/p2p/12D3KooW... (comma-separated)',
      source,
      value,
    );
  }
  return list.filter((a) => a !== '');
};

const cidrs: Parser = (value, key, source) => {
  const list = typeof value === 'string' ? value.split(',').map((c) => c.trim()) : value;
  const valid = (entry: unknown): boolean => {
    if (typeof entry !== 'string') return false;
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || rest.length > 0) return false;
    if (prefix === undefined) return true;
    return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
  };
  if (!Array.isArray(list) || !list.every((c) => c === '' || valid(c)))
    throw new ConfigError(
      key,
      'IP addresses or CIDRs like 10.0.0.0/8 (comma-separated)',
      source,
      value,
    );
  return list.filter((c) => c !== '');
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
  publicRoutes: routePatterns,
  authAccessTokenTtlMs: int(1000, 86_400_000),
  authRefreshTokenTtlMs: int(60_000, 365 * 86_400_000),
  authSigningKeyOverlapMs: int(0, 30 * 86_400_000),
  authLockoutAttempts: int(1, 1000),
  authLockoutWindowMs: int(1000, 86_400_000),
  authLockoutDurationMs: int(1000, 86_400_000),
  authScryptLogN: int(10, 20),
  authTokenAlgorithm: oneOf(['EdDSA', 'HS256']),
  rateLimitEnabled: bool,
  rateLimitWindowMs: int(1000, 86_400_000),
  rateLimitAnonymous: int(1, 1_000_000),
  rateLimitReader: int(1, 1_000_000),
  rateLimitOperator: int(1, 1_000_000),
  rateLimitAdmin: int(1, 1_000_000),
  rateLimitSubmit: int(1, 1_000_000),
  rateLimitAuth: int(1, 1_000_000),
  metricsHost: host,
  metricsPort: int(0, 65_535),
  corsOrigins: origins,
  trustProxy: cidrs,
  bodyLimit: int(1024, 64 * 1024 * 1024),
  readyMaxTipAgeMs: int(0, 7 * 24 * 3_600_000),
  p2pHost: host,
  p2pPort: int(0, 65_535),
  bootstrap: peerAddrs,
  maxConnections: int(1, 10_000),
  maxInboundPerIp: int(1, 10_000),
  banDurationMs: int(1000, 365 * 86_400_000),
  clockOffsetMs: signedInt(MAX_CLOCK_OFFSET_MS),
  snapshotInterval: int(-1, 100_000_000),
  snapshotKeep: int(1, 1000),
  // Bounds of snapshot/format.ts (MAX_CHUNK_BYTES), not imported: config sits below it.
  snapshotChunkBytes: int(1024, 3 * 1024 * 1024),
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
    // Test-only keys stay out of the file operators read and edit.
    if (key === 'clockOffsetMs') continue;
    const value = DEFAULT_CONFIG[key];
    doc[key] = typeof value === 'bigint' ? value.toString() : value;
  }
  return `${JSON.stringify(doc, null, 2)}\n`;
}
