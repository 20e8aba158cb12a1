/**
 * The node's side of snapshots: writing them every snapshotInterval blocks,
 * serving its SnapshotStore to peers, backups, and the
 * adapter that lets StateSync ask peers over request/response.
 */
import { existsSync, readFileSync } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BlockImporter, Chain } from '../chain/index.ts';
import { decodeTip } from '../chain/index.ts';
import type { NodeConfig } from '../config/index.ts';
import type { P2PHost, SnapshotSource } from '../p2p/index.ts';
import {
  identityPath,
  snapshotChunkProtocol,
  snapshotManifestProtocol,
  snapshotsProtocol,
} from '../p2p/index.ts';
import {
  BACKUP_FORMAT_VERSION,
  type BackupFile,
  backupStream,
  createSnapshotMetrics,
  decodeManifest,
  manifestId,
  removeStaging,
  type SnapshotOffer,
  type SnapshotPeers,
  SnapshotStore,
  SnapshotWriter,
} from '../snapshot/index.ts';
import { type BatchOp, Bucket, Database, metaKey } from '../storage/index.ts';
import { bytesEqual, toHex } from '../util/index.ts';
import type { CloseStack } from './close-stack.ts';
import { type DataPaths, loadValidatorKey } from './datadir.ts';

/** Serves complete snapshots from `store`; ids are checked so a request never gets another snapshot. */
export function storeSnapshotSource(store: SnapshotStore): SnapshotSource {
  // Manifest ids by height: a snapshot directory never changes once complete.
  const ids = new Map<number, Uint8Array>();
  const idOf = async (height: number): Promise<Uint8Array | null> => {
    const known = ids.get(height);
    if (known !== undefined) return known;
    if (!(await store.heights()).includes(height)) return null;
    const id = manifestId(await store.manifestBytes(height));
    ids.set(height, id);
    return id;
  };
  return {
    async offers() {
      const offers: SnapshotOffer[] = [];
      for (const height of await store.heights()) {
        const bytes = await store.manifestBytes(height);
        const manifest = decodeManifest(bytes);
        offers.push({
          height,
          blockHash: manifest.blockHash,
          id: manifestId(bytes),
          chunks: manifest.chunkHashes.length,
        });
      }
      return offers;
    },
    async manifest(height, id) {
      const known = await idOf(height);
      return known !== null && bytesEqual(known, id) ? store.manifestBytes(height) : null;
    },
    async chunk(height, id, index) {
      const known = await idOf(height);
      if (known === null || !bytesEqual(known, id)) return null;
      const info = await store.info(height);
      return index < info.chunks ? store.chunk(height, index) : null;
    },
  };
}

/** StateSync's view of the network: handshaken peers over libp2p request/response. */
export function p2pSnapshotPeers(p2p: P2PHost): SnapshotPeers {
  const one = <T>(items: T[], what: string): T => {
    const item = items[0];
    if (item === undefined) throw new Error(`peer has no ${what}`);
    return item;
  };
  return {
    peers: () => p2p.connectedPeers().map((p) => p.peerId),
    offers: (peer) => p2p.reqResp.request(peer, snapshotsProtocol, null),
    manifest: async (peer, height, id) =>
      one(await p2p.reqResp.request(peer, snapshotManifestProtocol, { height, id }), 'manifest'),
    chunk: async (peer, height, id, index) =>
      one(await p2p.reqResp.request(peer, snapshotChunkProtocol, { height, id, index }), 'chunk'),
    report: (peer, penalty, reason) => p2p.reportPeer(peer, penalty, reason),
  };
}

/** Where state sync builds the chain before it replaces the genesis-only one. */
export function stateSyncTarget(chainDb: string): string {
  return `${chainDb}.snapshot`;
}

/**
 * Records of this node, not of the chain, that the genesis-only database
 * gathered while state sync ran and that must outlive it: API keys and
 * revocations, the audit log (hash-chained: losing its head would break it),
 * and the bans of peers that served bad snapshot data.
 */
const NODE_LOCAL_BUCKETS: readonly Bucket[] = [Bucket.audit, Bucket.auth, Bucket.peerBan];

/**
 * Puts a state-synced chain in place. Runs at every start: a crash after the
 * genesis-only chain was removed and before the rename finishes the rename
 * here; a crash in the middle of the rebuild left only a staging directory,
 * which is removed (the sync starts again). The node-local records are
 * copied over first; a crash during the copy repeats it (puts of the same
 * keys), and once the old database is gone there is nothing left to copy.
 */
export async function installStateSyncedChain(chainDb: string): Promise<boolean> {
  const target = stateSyncTarget(chainDb);
  await removeStaging(target);
  if (!(await exists(target))) return false;
  if (await exists(chainDb)) await carryNodeRecords(chainDb, target);
  await rm(chainDb, { recursive: true, force: true });
  await rename(target, chainDb);
  return true;
}

/** Copies NODE_LOCAL_BUCKETS from one closed database to another; returns the records copied. */
export async function carryNodeRecords(from: string, to: string): Promise<number> {
  const source = await Database.open({ path: from, syncWrites: false });
  try {
    const dest = await Database.open({ path: to, syncWrites: true });
    try {
      let copied = 0;
      for (const bucket of NODE_LOCAL_BUCKETS) {
        let ops: BatchOp[] = [];
        for await (const [key, value] of source.range(
          Uint8Array.of(bucket),
          Uint8Array.of(bucket + 1),
        )) {
          ops.push({ type: 'put', key, value });
          if (ops.length === 1000) {
            await dest.write(ops);
            copied += ops.length;
            ops = [];
          }
        }
        await dest.write(ops);
        copied += ops.length;
      }
      return copied;
    } finally {
      await dest.close();
    }
  } finally {
    await source.close();
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * A backup of the running node: the LevelDB snapshot is taken here, at the
 * call, so the copy is this instant's database while blocks keep committing.
 * Keys (validator key, p2p identity, signer state, API auth records) only
 * with `includeKeys`.
 */
export function nodeBackup(
  db: Database,
  chain: { genesis: { chainId: string }; genesisHash: Uint8Array },
  paths: DataPaths,
  includeKeys: boolean,
): AsyncGenerator<Uint8Array> {
  const view = db.readView();
  const files: BackupFile[] = [];
  const add = (path: string) => {
    if (existsSync(path))
      files.push({
        name: relative(paths.root, path).split('\\').join('/'),
        bytes: readFileSync(path),
      });
  };
  add(paths.genesis);
  add(paths.config);
  if (includeKeys) {
    add(paths.validatorKey);
    add(identityPath(paths.root));
    add(paths.signerState);
    // The API token signing keys (api/auth signingKeysPath): without them every token issued before the loss dies with it.
    add(join(paths.root, 'keys', 'api-signing-keys.json'));
  }
  return (async function* () {
    try {
      const tipBytes = await view.get(metaKey('tip'));
      if (tipBytes === undefined) throw new Error('the database has no tip');
      const tip = decodeTip(tipBytes);
      yield* backupStream(
        view,
        {
          format: BACKUP_FORMAT_VERSION,
          chainId: chain.genesis.chainId,
          genesisHash: toHex(chain.genesisHash),
          height: tip.height,
          tipHash: toHex(tip.hash),
          createdAt: new Date().toISOString(),
          includesKeys: includeKeys,
        },
        files,
      );
    } finally {
      await view.close();
    }
  })();
}

/**
 * Snapshots: written every `snapshotInterval` blocks (by role when -1: off on
 * a validator, whose signing must not wait on a scan of the UTXO set; every
 * 1000 blocks on other nodes, which seed new nodes) and served to peers.
 */
export function openSnapshots(
  config: NodeConfig,
  modules: {
    logger: Logger;
    paths: DataPaths;
    db: Database;
    chain: Chain;
    importer: BlockImporter;
    metricsRegistry: Registry;
    p2p: P2PHost;
  },
  closers: CloseStack,
): SnapshotStore {
  const { logger, paths, db, chain, importer, metricsRegistry, p2p } = modules;
  const store = new SnapshotStore({ dir: paths.snapshots });
  const interval =
    config.snapshotInterval >= 0
      ? config.snapshotInterval
      : loadValidatorKey(paths) === null
        ? 1000
        : 0;
  const writer = new SnapshotWriter(
    { interval, keep: config.snapshotKeep, chunkBytes: config.snapshotChunkBytes },
    {
      db,
      chain,
      store,
      logger: logger.child({ module: 'snapshot' }),
      metrics: createSnapshotMetrics(metricsRegistry),
    },
  );
  importer.events.on('block', (event) => writer.onBlock(event.block.height));
  closers.push('snapshots', () => writer.close());
  p2p.reqResp.setSnapshotSource(storeSnapshotSource(store));
  return store;
}
