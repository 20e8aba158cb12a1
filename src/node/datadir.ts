import { chmodSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Genesis,
  genesisFromTemplate,
  parseGenesis,
  serializeGenesis,
} from '../chain/index.ts';
import { CONFIG_FILE, defaultConfigFile } from '../config/index.ts';
import { createKeyFile, type KeyPair, readKeyFile } from '../crypto/node.ts';
import { UtxodError } from '../util/index.ts';
import { writeFileAtomicSync } from '../util/node.ts';

/** Where everything of one node lives inside its data directory. */
export interface DataPaths {
  readonly root: string;
  readonly config: string;
  readonly genesis: string;
  readonly keysDir: string;
  readonly validatorKey: string;
  readonly signerState: string;
  /** The consensus write-ahead log (src/consensus/bft/wal.ts). */
  readonly consensusWal: string;
  readonly chainDb: string;
  readonly mempool: string;
  /** Snapshots this node wrote (snapshot/store.ts). */
  readonly snapshots: string;
}

export function dataPaths(root: string): DataPaths {
  return {
    root,
    config: join(root, CONFIG_FILE),
    genesis: join(root, 'genesis.json'),
    keysDir: join(root, 'keys'),
    validatorKey: join(root, 'keys', 'validator.json'),
    signerState: join(root, 'signer-state.json'),
    consensusWal: join(root, 'consensus.wal'),
    chainDb: join(root, 'chain'),
    mempool: join(root, 'mempool.dat'),
    snapshots: join(root, 'snapshots'),
  };
}

export class DatadirError extends UtxodError<
  'DATADIR_NOT_INITIALISED' | 'DATADIR_EXISTS' | 'DATADIR_NOT_WRITABLE'
> {}

/**
 * Fails fast, naming the directory and the uid, when the data directory cannot
 * be written: a read-only or wrongly-owned volume in a container otherwise
 * surfaces later as a bare ENOENT/EROFS from deep inside LevelDB or init.
 */
export function assertWritableDatadir(root: string): void {
  const probe = join(root, `.write-probe-${process.pid}`);
  try {
    mkdirSync(root, { recursive: true });
    writeFileSync(probe, '');
    unlinkSync(probe);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === undefined) throw error;
    const uid = process.getuid?.() ?? 'unknown';
    throw new DatadirError(
      'DATADIR_NOT_WRITABLE',
      `data directory ${root} is not writable by uid ${uid} (${code}): mount it read-write and owned by that user`,
      { root, code },
      { cause: error },
    );
  }
}

export const DEVNET_TEMPLATE = new URL('../../genesis/devnet.json', import.meta.url);

export function isInitialised(root: string): boolean {
  return existsSync(dataPaths(root).genesis);
}

export interface InitResult {
  readonly paths: DataPaths;
  readonly genesis: Genesis;
  /** The validator key, when this node was made the devnet's validator. */
  readonly validatorKey: KeyPair | null;
}

/**
 * Prepares a data directory. Without `genesisFile` it creates a new devnet:
 * a fresh validator key, and a genesis from genesis/devnet.json naming that key
 * as the only validator. With `genesisFile` it joins that existing network as
 * a non-validator.
 */
export function initDatadir(
  root: string,
  opts: { genesisFile?: string; now?: number } = {},
): InitResult {
  const paths = dataPaths(root);
  if (existsSync(paths.genesis)) {
    throw new DatadirError(
      'DATADIR_EXISTS',
      `${root} is already initialised (${paths.genesis} exists)`,
    );
  }
  mkdirSync(paths.keysDir, { recursive: true, mode: 0o700 });
  chmodSync(paths.keysDir, 0o700);
  let genesis: Genesis;
  let validatorKey: KeyPair | null = null;
  if (opts.genesisFile !== undefined) {
    genesis = parseGenesis(readFileSync(opts.genesisFile, 'utf8'));
  } else {
    validatorKey = createKeyFile(paths.validatorKey);
    genesis = genesisFromTemplate(
      readFileSync(DEVNET_TEMPLATE, 'utf8'),
      validatorKey.publicKey,
      opts.now ?? Date.now(),
    );
  }
  if (!existsSync(paths.config)) writeFileSync(paths.config, defaultConfigFile(), { mode: 0o644 });
  writeFileAtomicSync(paths.genesis, serializeGenesis(genesis), 0o644);
  return { paths, genesis, validatorKey };
}

export function loadGenesis(paths: DataPaths): Genesis {
  if (!existsSync(paths.genesis)) {
    throw new DatadirError(
      'DATADIR_NOT_INITIALISED',
      `${paths.root} has no genesis.json: run \`utxod init --datadir ${paths.root}\` first`,
    );
  }
  return parseGenesis(readFileSync(paths.genesis, 'utf8'));
}

/** The validator key if this data directory has one. */
export function loadValidatorKey(paths: DataPaths): KeyPair | null {
  return existsSync(paths.validatorKey) ? readKeyFile(paths.validatorKey) : null;
}
