import { Option } from 'commander';
import { defaultDatadir } from '../config/index.ts';

export function datadirOption(): Option {
  return new Option('--datadir <dir>', 'data directory (env UTXOD_DATADIR)').default(
    defaultDatadir(),
  );
}

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Parses a non-negative integer flag, naming the flag when it is not one. */
export function parseCount(flag: string): (value: string) => number {
  return (value: string) => {
    if (!/^\d+$/.test(value)) throw new Error(`${flag} must be a whole number, got "${value}"`);
    return Number(value);
  };
}
