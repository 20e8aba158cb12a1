/**
 * Builds a chain database from a verified manifest and its chunks. The
 * database is written in a staging directory next to the target and renamed
 * onto it only after every chunk hash, the record order, the counts and both
 * roots have checked out: a crash or a bad chunk leaves no half-built chain
 * where the node would open it, and the staging directory is wiped at the
 * next attempt.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { addressCoinKey, baseSetHistoryOps, encodeCheckpoint, encodeTip } from '../chain/index.ts';
import { MuHash3072, sha256 } from '../crypto/index.ts';
import { decodeCoin, OUTPOINT_SIZE } from '../primitives/index.ts';
import { asStateKey, StateOverlay, StateStore } from '../state/index.ts';
import {
  type BatchOp,
  Bucket,
  bucketKey,
  Database,
  heightKey,
  metaKey,
  SCHEMA_VERSION,
  schemaVersionOp,
} from '../storage/index.ts';
import { asError, bytesEqual, compareBytes, toHex, u32BE } from '../util/index.ts';
import { CoinHasher, defaultHashWorkers } from './coin-hasher.ts';
import { SnapshotError } from './errors.ts';
import { COIN_RECORD_BYTES, decodeChunk, type Manifest } from './format.ts';

/** One MuHash element: the coin record without its kind byte. */
const COIN_ELEMENT_BYTES = COIN_RECORD_BYTES - 1;

/** Meta key holding the lowest height whose block this database has (absent: 0). */
export const EARLIEST_HEIGHT_KEY = metaKey('earliest');

export interface RebuildProgress {
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly bytesDone: number;
}

export interface RebuildOptions {
  /** Where the chain database must end up (must not exist yet). */
  readonly chainDir: string;
  /** Chunks fetched ahead of the one being written. */
  readonly concurrency?: number;
  /** Worker threads hashing coins into the UTXO root; 0: the calling thread. Default: by size. */
  readonly hashWorkers?: number;
}

export interface RebuildModules {
  readonly manifest: Manifest;
  readonly genesisHash: Uint8Array;
  /** Returns chunk `index`; may fetch from anywhere, the hash is checked here. */
  readonly fetchChunk: (index: number) => Promise<Uint8Array>;
  readonly onProgress?: (p: RebuildProgress) => void;
  /** Hashes the coins (started early, or shared); the caller closes it. Default: one of `hashWorkers`. */
  readonly hasher?: CoinHasher;
}

export function stagingDirOf(chainDir: string): string {
  return `${chainDir}.staging`;
}

/** Removes a staging directory left by a crashed rebuild. */
export async function removeStaging(chainDir: string): Promise<void> {
  await rm(stagingDirOf(chainDir), { recursive: true, force: true });
}

/** Call only with a manifest that `verifyManifest` accepted. */
export async function rebuildChain(opts: RebuildOptions, modules: RebuildModules): Promise<void> {
  if (await pathExists(opts.chainDir)) {
    throw new SnapshotError(
      'SNAPSHOT_LOCAL',
      `${opts.chainDir} exists: restore into an empty data directory`,
    );
  }
  const staging = stagingDirOf(opts.chainDir);
  await rm(staging, { recursive: true, force: true });
  const db = await Database.open({ path: staging, syncWrites: false });
  try {
    await writeContent(db, modules, {
      concurrency: opts.concurrency ?? 4,
      hashWorkers: opts.hashWorkers ?? defaultHashWorkers(modules.manifest.coinCount),
    });
  } catch (error) {
    await db.close();
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
  await db.close();
  await rename(staging, opts.chainDir);
  const dir = await open(dirname(opts.chainDir), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

async function writeContent(
  db: Database,
  modules: RebuildModules,
  opts: { concurrency: number; hashWorkers: number },
): Promise<void> {
  const { manifest: m } = modules;
  const header = m.block.header;
  const utxo = new MuHash3072();
  const state = await StateStore.open({ retainRoots: 1 }, { db });
  const overlay = new StateOverlay(state);
  const own = modules.hasher === undefined;
  const hasher = modules.hasher ?? new CoinHasher(opts.hashWorkers);
  // Partial hashes and one LevelDB write run while the next chunk is decoded; both bounded.
  const hashing: Promise<MuHash3072>[] = [];
  const maxHashing = 2 * Math.max(1, opts.hashWorkers);
  let writing: Promise<void> | null = null;
  let coins = 0n;
  let entries = 0n;
  let lastCoin: Uint8Array | null = null;
  let lastState: Uint8Array | null = null;
  let bytesDone = 0;
  const total = m.chunkHashes.length;
  const pending = new Map<number, Promise<Uint8Array>>();
  const request = (i: number) => {
    if (i < total && !pending.has(i)) {
      const p = modules.fetchChunk(i);
      // Awaited in order below; this only keeps an early rejection from being unhandled meanwhile.
      p.catch(() => undefined);
      pending.set(i, p);
    }
  };
  try {
    for (let i = 0; i < Math.min(opts.concurrency, total); i++) request(i);
    for (let index = 0; index < total; index++) {
      const bytes = await pending.get(index)!;
      pending.delete(index);
      request(index + opts.concurrency);
      if (!bytesEqual(sha256(bytes), m.chunkHashes[index]!)) {
        throw new SnapshotError(
          'SNAPSHOT_CHUNK_HASH',
          `chunk ${index} does not match the manifest`,
          {
            index,
          },
        );
      }
      const chunk = decodeChunk(bytes);
      if (chunk.index !== index)
        throw new SnapshotError('SNAPSHOT_BAD_CONTENT', `chunk ${index} says it is ${chunk.index}`);
      if (chunk.records.length === 0)
        throw new SnapshotError('SNAPSHOT_BAD_CONTENT', `chunk ${index} is empty`);
      const ops: BatchOp[] = [];
      // The MuHash elements of this chunk's coins (outpoint key || coin), packed for a worker.
      const elements = new Uint8Array(chunk.records.length * COIN_ELEMENT_BYTES);
      let packed = 0;
      for (const rec of chunk.records) {
        if (rec.kind === 'coin') {
          if (lastState !== null)
            throw new SnapshotError('SNAPSHOT_BAD_CONTENT', 'a coin after the state entries');
          if (lastCoin !== null && compareBytes(lastCoin, rec.key) >= 0)
            throw new SnapshotError('SNAPSHOT_BAD_CONTENT', `coins out of order in chunk ${index}`);
          lastCoin = rec.key;
          let lock: Uint8Array;
          try {
            lock = decodeCoin(rec.coin).lock.hash;
          } catch (error) {
            throw new SnapshotError(
              'SNAPSHOT_MALFORMED',
              `coin in chunk ${index}: ${asError(error).message}`,
            );
          }
          elements.set(rec.key, packed);
          elements.set(rec.coin, packed + OUTPOINT_SIZE);
          packed += COIN_ELEMENT_BYTES;
          ops.push({ type: 'put', key: bucketKey(Bucket.coin, rec.key), value: rec.coin });
          ops.push({ type: 'put', key: addressCoinKey(lock, rec.key), value: new Uint8Array(0) });
          coins++;
        } else {
          if (lastState !== null && compareBytes(lastState, rec.key) >= 0)
            throw new SnapshotError(
              'SNAPSHOT_BAD_CONTENT',
              `state entries out of order in chunk ${index}`,
            );
          lastState = rec.key;
          try {
            overlay.put(asStateKey(rec.key), rec.value);
          } catch (error) {
            throw new SnapshotError(
              'SNAPSHOT_MALFORMED',
              `state entry in chunk ${index}: ${asError(error).message}`,
            );
          }
          entries++;
        }
      }
      if (packed > 0) {
        if (hashing.length >= maxHashing) utxo.combine(await hashing.shift()!);
        const partial = hasher.hash(elements.subarray(0, packed), COIN_ELEMENT_BYTES);
        partial.catch(() => undefined);
        hashing.push(partial);
      }
      if (writing !== null) await writing;
      writing = db.write(ops);
      writing.catch(() => undefined);
      bytesDone += bytes.length;
      modules.onProgress?.({ chunksDone: index + 1, chunksTotal: total, bytesDone });
    }
    if (writing !== null) await writing;
    for (const partial of hashing.splice(0)) utxo.combine(await partial);
  } finally {
    // On an error, nothing may still be writing when the caller closes and deletes the database.
    await Promise.allSettled([writing, ...hashing]);
    if (own) await hasher.close();
  }
  if (coins !== m.coinCount || entries !== m.stateCount) {
    throw new SnapshotError(
      'SNAPSHOT_BAD_CONTENT',
      `the chunks hold ${coins} coins and ${entries} state entries, the manifest says ${m.coinCount} and ${m.stateCount}`,
    );
  }
  if (!bytesEqual(utxo.finalize(), header.utxoRoot)) {
    throw new SnapshotError(
      'SNAPSHOT_UTXO_ROOT',
      `the coins hash to ${toHex(utxo.finalize())}, block ${m.height} commits to ${toHex(header.utxoRoot)}`,
    );
  }
  await writeState(db, m, state, overlay);
  const height = m.height;
  const ops: BatchOp[] = [
    ...(await baseSetHistoryOps(overlay, height)),
    schemaVersionOp(SCHEMA_VERSION),
    { type: 'put', key: metaKey('genesis'), value: modules.genesisHash },
    { type: 'put', key: EARLIEST_HEIGHT_KEY, value: u32BE(height) },
    { type: 'put', key: bucketKey(Bucket.block, m.blockHash), value: m.block.encode() },
    { type: 'put', key: heightKey(Bucket.heightIndex, height), value: m.blockHash },
    { type: 'put', key: heightKey(Bucket.commit, height), value: m.commit.encode() },
  ];
  const utxoState = utxo.serialize();
  // A checkpoint at the snapshot height: `verify-chain` starts from it, since there is nothing below.
  ops.push({
    type: 'put',
    key: heightKey(Bucket.checkpoint, height),
    value: encodeCheckpoint({ height, hash: m.blockHash, utxoRoot: header.utxoRoot, utxoState }),
  });
  // The tip goes last in the same batch: a database without it is never opened.
  ops.push({
    type: 'put',
    key: metaKey('tip'),
    value: encodeTip({ height, hash: m.blockHash, utxoState }),
  });
  await db.write(ops);
}

/**
 * The state entries rebuild the tree, whose root must be the header's; the
 * store then holds the state of the snapshot's height, with nothing below it.
 */
async function writeState(
  db: Database,
  m: Manifest,
  state: StateStore,
  overlay: StateOverlay,
): Promise<void> {
  const stateRoot = m.block.header.stateRoot;
  const update = await state.prepare(overlay, m.height, { base: true });
  if (!bytesEqual(update.root, stateRoot)) {
    throw new SnapshotError(
      'SNAPSHOT_STATE_ROOT',
      `the state entries hash to ${toHex(update.root)}, block ${m.height} commits to ${toHex(stateRoot)}`,
    );
  }
  await db.write(update.ops);
}

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
