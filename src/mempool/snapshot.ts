import { readFile } from 'node:fs/promises';
import { sha256 } from '../crypto/index.ts';
import { DecodeError, Reader, Writer } from '../encoding/index.ts';
import { MAX_TX_BYTES, Transaction } from '../primitives/index.ts';
import { bytesEqual } from '../util/index.ts';
import { writeFileAtomic } from '../util/node.ts';
import { MempoolSnapshotError } from './errors.ts';

/**
 * Mempool snapshot file (mempool.dat), written on clean shutdown:
 *
 *   magic "UMPL" | version u32 | count u32 |
 *   count x (added-time u64 ms | varint length | transaction bytes) |
 *   SHA-256 of everything before it (32 bytes)
 *
 * Little-endian like the rest of the protocol. Entries are in pool insertion
 * order, which puts every parent before its children, so re-admitting them
 * in file order needs no orphan detour.
 */
export const SNAPSHOT_MAGIC = new Uint8Array([0x55, 0x4d, 0x50, 0x4c]);
export const SNAPSHOT_VERSION = 1;
const CHECKSUM_BYTES = 32;
const HEADER_BYTES = SNAPSHOT_MAGIC.length + 4 + 4;

export interface SnapshotEntry {
  readonly time: number;
  readonly tx: Transaction;
}

export function encodeSnapshot(entries: Iterable<SnapshotEntry>): Uint8Array {
  const list = [...entries];
  const w = new Writer(HEADER_BYTES + CHECKSUM_BYTES + list.length * 256);
  w.bytes(SNAPSHOT_MAGIC).u32(SNAPSHOT_VERSION).u32(list.length);
  for (const { time, tx } of list) w.u64(BigInt(time)).varBytes(tx.encode());
  const body = w.finish();
  const out = new Uint8Array(body.length + CHECKSUM_BYTES);
  out.set(body, 0);
  out.set(sha256(body), body.length);
  return out;
}

/** Strict: anything but exactly what `encodeSnapshot` writes throws MempoolSnapshotError. */
export function decodeSnapshot(bytes: Uint8Array): SnapshotEntry[] {
  if (bytes.length < HEADER_BYTES + CHECKSUM_BYTES) {
    throw new MempoolSnapshotError('truncated', { size: bytes.length });
  }
  if (!bytesEqual(bytes.subarray(0, SNAPSHOT_MAGIC.length), SNAPSHOT_MAGIC)) {
    throw new MempoolSnapshotError('bad-magic');
  }
  const body = bytes.subarray(0, bytes.length - CHECKSUM_BYTES);
  const r = new Reader(body, 'mempool snapshot');
  r.bytes(SNAPSHOT_MAGIC.length);
  const version = r.u32('version');
  // Before the checksum: a future version may lay out its trailer differently.
  if (version !== SNAPSHOT_VERSION) throw new MempoolSnapshotError('bad-version', { version });
  if (!bytesEqual(sha256(body), bytes.subarray(body.length))) {
    throw new MempoolSnapshotError('bad-checksum');
  }
  // The checksum matched, so a structural error past this point means the
  // writer was wrong, not the disk; still a typed error, never a crash.
  const entries: SnapshotEntry[] = [];
  try {
    const count = r.u32('count');
    for (let i = 0; i < count; i++) {
      const time = r.u64('time');
      if (time > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new DecodeError('out-of-range', r.what, { field: 'time', entry: i });
      }
      const tx = Transaction.decode(r.varBytes(MAX_TX_BYTES, 'tx'));
      entries.push({ time: Number(time), tx });
    }
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new MempoolSnapshotError('bad-entry', { entry: entries.length }, { cause: error });
    }
    throw error;
  }
  if (r.remaining !== 0) {
    throw new MempoolSnapshotError('trailing-bytes', { trailing: r.remaining });
  }
  return entries;
}

/** Writes an encoded snapshot atomically: a crash leaves the old file or the new one. */
export async function writeSnapshotFile(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomic(path, bytes);
}

/** The entries of the snapshot at `path`, null when there is none (first start); throws MempoolSnapshotError when corrupt. */
export async function readSnapshotFile(path: string): Promise<SnapshotEntry[] | null> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  return decodeSnapshot(bytes);
}
