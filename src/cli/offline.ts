import { Chain } from '../chain/index.ts';
import { loadConfig, type NodeConfig } from '../config/index.ts';
import { SignatureChecker } from '../consensus/index.ts';
import { ParallelVerifier } from '../crypto/node.ts';
import type { Logger } from '../logger/index.ts';
import { dataPaths, loadGenesis } from '../node/index.ts';
import { Database } from '../storage/index.ts';
import { requireDatadir } from './shared.ts';

export interface OfflineChain {
  readonly chain: Chain;
  /** The open database, for tools and tests that read buckets the chain does not expose. */
  readonly db: Database;
  readonly config: NodeConfig;
  /** Checks every signature again: no cache. */
  readonly signatures: SignatureChecker;
  close(): Promise<void>;
}

/** Opens a data directory's chain without starting a node (the node must be stopped). */
export async function openChainOffline(datadir: string, logger: Logger): Promise<OfflineChain> {
  requireDatadir(datadir);
  const config = loadConfig(datadir);
  const paths = dataPaths(config.datadir);
  const genesis = loadGenesis(paths);
  const db = await Database.open({ path: paths.chainDb, syncWrites: true });
  const verifier = await ParallelVerifier.init({ workers: config.verifyWorkers });
  const signatures = new SignatureChecker({ verifier, cache: null });
  try {
    const chain = await Chain.init(
      { utxoCacheBytes: config.utxoCacheMb * 1024 * 1024 },
      { db, genesis, signatures, logger },
    );
    return {
      chain,
      db,
      config,
      signatures,
      async close() {
        await verifier.close();
        await db.close();
      },
    };
  } catch (error) {
    await verifier.close();
    await db.close();
    throw error;
  }
}

/** The chain database alone (audit log, ban list); LevelDB's lock refuses a second opener. */
export async function openDatabase(datadir: string): Promise<Database> {
  requireDatadir(datadir);
  return Database.open({ path: dataPaths(datadir).chainDb, syncWrites: true });
}
