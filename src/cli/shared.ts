import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Option } from 'commander';
import { UtxodError } from '../util/index.ts';

/**
 * A mistake the user can fix: the message names the flag or setting to change
 * and main.ts prints it without a stack trace.
 */
export class CliError extends UtxodError<
  | 'USAGE'
  | 'DATADIR_MISSING'
  | 'PORT_IN_USE'
  | 'CONFIRM'
  | 'AUTH_MISSING'
  | 'NODE_UNREACHABLE'
  | 'AMOUNT_INVALID'
  | 'INSUFFICIENT_FUNDS'
> {}

/**
 * The same default as config's defaultDatadir(), computed here because this
 * module is loaded by every command, and the config module pulls in the logger:
 * `utxod --help` stays fast.
 */
export function defaultDatadir(): string {
  const fromEnv = process.env['UTXOD_DATADIR'];
  return fromEnv === undefined || fromEnv === '' ? join(homedir(), '.utxod') : fromEnv;
}

export function datadirOption(): Option {
  return new Option('--datadir <dir>', 'data directory (env UTXOD_DATADIR)').default(
    defaultDatadir(),
  );
}

/**
 * The one answer every command gives for a data directory that is not there
 * (or not initialised), checked before anything is opened or created in it.
 */
export function requireDatadir(datadir: string): void {
  if (existsSync(join(datadir, 'genesis.json'))) return;
  const what = existsSync(datadir)
    ? 'is not an initialised utxod data directory'
    : 'does not exist';
  throw new CliError(
    'DATADIR_MISSING',
    `data directory ${datadir} ${what}: run \`utxod init --datadir ${datadir}\` (or \`utxod start\`) first, or pass --datadir DIR of an existing node`,
    { datadir },
  );
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Parses a non-negative integer flag, naming the flag when it is not one. */
export function parseCount(flag: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d{1,15}$/.test(value))
      throw new CliError('USAGE', `${flag} must be a whole number, got "${value}"`);
    return Number(value);
  };
}
