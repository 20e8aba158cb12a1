/**
 * Snapshots on disk: `<datadir>/snapshots/<height>/manifest.bin` and
 * `chunk-<index>.bin`. A snapshot is written under a `.partial-` name and
 * renamed into place only when complete, so a crash never leaves one that
 * looks finished; leftovers are removed at the next write.
 */
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeTip } from '../chain/index.ts';
import type { ValidatorSet } from '../consensus/index.ts';
import { sha256 } from '../crypto/index.ts';
import { Block, CommitCertificate } from '../primitives/index.ts';
import { Bucket, bucketKey, heightKey, metaKey, type ReadView } from '../storage/index.ts';
import { asError, toHex } from '../util/index.ts';
import { SnapshotError } from './errors.ts';
import {
  DEFAULT_CHUNK_BYTES,
  decodeManifest,
  encodeChunk,
  encodeManifest,
  type Manifest,
  manifestId,
  recordSize,
  SNAPSHOT_FORMAT_VERSION,
  type SnapshotRecord,
} from './format.ts';

export interface SnapshotInfo {
  readonly height: number;
  readonly blockHash: string;
  readonly id: string;
  readonly coins: bigint;
  readonly stateEntries: bigint;
  readonly chunks: number;
  readonly bytes: number;
}

export interface CreateResult extends SnapshotInfo {
  readonly durationMs: number;
}

const MANIFEST = 'manifest.bin';
const chunkFile = (index: number) => `chunk-${String(index).padStart(6, '0')}.bin`;

export class SnapshotStore {
  readonly dir: string;

  constructor(opts: { dir: string }) {
    this.dir = opts.dir;
  }

  /**
   * Writes a snapshot of the chain as `view` sees it (one LevelDB snapshot,
   * so coins, state, tip and certificate belong to the same height). Every
   * stored block is final (BFT), so the view's tip is a final height.
   */
  async create(
    view: ReadView,
    chain: { chainIdHash: Uint8Array; validatorsAt(height: number): ValidatorSet },
    opts: { chunkBytes?: number } = {},
  ): Promise<CreateResult> {
    const started = performance.now();
    const chunkBytes = opts.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    const tipBytes = await view.get(metaKey('tip'));
    if (tipBytes === undefined) throw local('the database has no tip');
    const tip = decodeTip(tipBytes);
    const blockBytes = await view.get(bucketKey(Bucket.block, tip.hash));
    const commitBytes = await view.get(heightKey(Bucket.commit, tip.height));
    if (blockBytes === undefined || commitBytes === undefined)
      throw local(`block or commit certificate of the tip ${tip.height} is missing`);
    const final = join(this.dir, String(tip.height));
    if (await exists(final)) {
      const info = await this.info(tip.height);
      return { ...info, durationMs: performance.now() - started };
    }
    await mkdir(this.dir, { recursive: true });
    await this.removePartials();
    const partial = join(this.dir, `.partial-${tip.height}-${process.pid}`);
    await mkdir(partial, { recursive: true });

    const chunkHashes: Uint8Array[] = [];
    let records: SnapshotRecord[] = [];
    let size = 0;
    let bytes = 0;
    const flush = async () => {
      if (records.length === 0) return;
      const chunk = encodeChunk(chunkHashes.length, records);
      await writeFile(join(partial, chunkFile(chunkHashes.length)), chunk);
      chunkHashes.push(sha256(chunk));
      bytes += chunk.length;
      records = [];
      size = 0;
    };
    const add = async (rec: SnapshotRecord) => {
      const n = recordSize(rec);
      if (size + n > chunkBytes - 16) await flush();
      records.push(rec);
      size += n;
    };
    let coinCount = 0n;
    for await (const [key, coin] of view.range(
      Uint8Array.of(Bucket.coin),
      Uint8Array.of(Bucket.coin + 1),
    )) {
      await add({ kind: 'coin', key: key.subarray(1), coin });
      coinCount++;
    }
    let stateCount = 0n;
    for await (const [key, value] of view.range(
      Uint8Array.of(Bucket.stateValue),
      Uint8Array.of(Bucket.stateValue + 1),
    )) {
      await add({ kind: 'state', key: key.subarray(1), value });
      stateCount++;
    }
    await flush();
    const manifest: Manifest = {
      version: SNAPSHOT_FORMAT_VERSION,
      chainIdHash: chain.chainIdHash,
      height: tip.height,
      blockHash: tip.hash,
      coinCount,
      stateCount,
      chunkBytes,
      block: Block.decode(blockBytes),
      commit: CommitCertificate.decode(commitBytes),
      validators: chain.validatorsAt(tip.height + 1),
      chunkHashes,
    };
    const manifestBytes = encodeManifest(manifest);
    await writeFile(join(partial, MANIFEST), manifestBytes);
    await rename(partial, final);
    return {
      ...describe(manifest, manifestBytes, bytes + manifestBytes.length),
      durationMs: performance.now() - started,
    };
  }

  /** Heights of the complete snapshots, newest first. */
  async heights(): Promise<number[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => b - a);
  }

  async list(): Promise<SnapshotInfo[]> {
    const out: SnapshotInfo[] = [];
    for (const h of await this.heights()) out.push(await this.info(h));
    return out;
  }

  async info(height: number): Promise<SnapshotInfo> {
    const bytes = await this.manifestBytes(height);
    const manifest = decodeManifest(bytes);
    let total = bytes.length;
    for (const name of await readdir(join(this.dir, String(height)))) {
      if (name.startsWith('chunk-'))
        total += (await readFile(join(this.dir, String(height), name))).length;
    }
    return describe(manifest, bytes, total);
  }

  async manifestBytes(height: number): Promise<Uint8Array> {
    return this.read(height, MANIFEST);
  }

  async chunk(height: number, index: number): Promise<Uint8Array> {
    return this.read(height, chunkFile(index));
  }

  /** Deletes all but the newest `keep` snapshots. */
  async prune(keep: number): Promise<number[]> {
    const removed: number[] = [];
    for (const h of (await this.heights()).slice(Math.max(keep, 0))) {
      await rm(join(this.dir, String(h)), { recursive: true, force: true });
      removed.push(h);
    }
    return removed;
  }

  private async read(height: number, name: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(join(this.dir, String(height), name)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw local(`no snapshot at height ${height} (${name})`);
      throw local(`cannot read snapshot ${height}: ${asError(error).message}`);
    }
  }

  private async removePartials(): Promise<void> {
    for (const name of await readdir(this.dir)) {
      if (name.startsWith('.partial-'))
        await rm(join(this.dir, name), { recursive: true, force: true });
    }
  }
}

function describe(m: Manifest, manifestBytes: Uint8Array, bytes: number): SnapshotInfo {
  return {
    height: m.height,
    blockHash: toHex(m.blockHash),
    id: toHex(manifestId(manifestBytes)),
    coins: m.coinCount,
    stateEntries: m.stateCount,
    chunks: m.chunkHashes.length,
    bytes,
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await readdir(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

function local(reason: string): SnapshotError {
  return new SnapshotError('SNAPSHOT_LOCAL', reason);
}
