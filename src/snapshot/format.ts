/**
 * The snapshot format (docs/protocol.md, "Snapshots"): one manifest and
 * fixed-size chunks. Nothing here is trusted; decoding is strict (exact
 * lengths, bounded counts, no trailing bytes) and verify.ts checks the
 * content against the chain.
 */

import { ValidatorSet } from '../consensus/index.ts';
import { sha256 } from '../crypto/index.ts';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import {
  Block,
  COIN_SIZE,
  CommitCertificate,
  HASH_SIZE,
  MAX_BLOCK_BYTES,
  MAX_COMMIT_SIGNATURES,
  OUTPOINT_SIZE,
  PUBKEY_SIZE,
} from '../primitives/index.ts';
import { MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES } from '../state/index.ts';
import { asError } from '../util/index.ts';
import { SnapshotError } from './errors.ts';

export const SNAPSHOT_FORMAT_VERSION = 1;
const MANIFEST_MAGIC = new TextEncoder().encode('UTXOSNAP');
/** Upper bound of one chunk on disk and on the wire (below libp2p's 4 MiB stream buffers). */
export const MAX_CHUNK_BYTES = 3 * 1024 * 1024;
export const DEFAULT_CHUNK_BYTES = 1024 * 1024;
/** 2^15 chunks of up to 3 MiB (96 GiB), so a manifest (block + hashes) fits one 4 MiB p2p frame. */
export const MAX_CHUNKS = 1 << 15;
const MAX_VALIDATORS = 1024;
const MAX_COMMIT_BYTES = 48 + MAX_COMMIT_SIGNATURES * 66;
export const MAX_MANIFEST_BYTES =
  64 + MAX_BLOCK_BYTES + MAX_COMMIT_BYTES + MAX_VALIDATORS * 41 + 8 + MAX_CHUNKS * HASH_SIZE;

export const RecordKind = { coin: 1, state: 2 } as const;

export interface Manifest {
  readonly version: number;
  readonly chainIdHash: Uint8Array;
  readonly height: number;
  readonly blockHash: Uint8Array;
  readonly coinCount: bigint;
  readonly stateCount: bigint;
  /** Target size of a chunk; every chunk is at most this big. */
  readonly chunkBytes: number;
  /** The block at `height` (its header carries utxoRoot and stateRoot). */
  readonly block: Block;
  /** The precommits that made `block` final. */
  readonly commit: CommitCertificate;
  /** The validator set that signs the next heights (hand-off for block sync). */
  readonly validators: ValidatorSet;
  readonly chunkHashes: readonly Uint8Array[];
}

export type SnapshotRecord =
  | { readonly kind: 'coin'; readonly key: Uint8Array; readonly coin: Uint8Array }
  | { readonly kind: 'state'; readonly key: Uint8Array; readonly value: Uint8Array };

export function encodeManifest(m: Manifest): Uint8Array {
  const w = new Writer(4096 + m.chunkHashes.length * HASH_SIZE);
  w.bytes(MANIFEST_MAGIC).u32(m.version).bytes(m.chainIdHash).u32(m.height).bytes(m.blockHash);
  w.u64(m.coinCount).u64(m.stateCount).u32(m.chunkBytes);
  w.varBytes(m.block.encode()).varBytes(m.commit.encode());
  w.varint(m.validators.validators.length);
  for (const v of m.validators.validators) w.bytes(v.publicKey).u64(v.power);
  w.varint(m.chunkHashes.length);
  for (const h of m.chunkHashes) w.bytes(h);
  return w.finish();
}

/** The snapshot's id: SHA-256 of its manifest bytes. */
export function manifestId(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

export function decodeManifest(bytes: Uint8Array): Manifest {
  if (bytes.length > MAX_MANIFEST_BYTES)
    throw new SnapshotError('SNAPSHOT_MALFORMED', `manifest of ${bytes.length} bytes`);
  return strictly('manifest', () =>
    decodeExact(bytes, 'snapshot manifest', (r) => {
      const magic = r.bytes(MANIFEST_MAGIC.length, 'magic');
      if (Buffer.compare(magic, MANIFEST_MAGIC) !== 0)
        throw new DecodeError('invalid-value', r.what, { field: 'magic' });
      const version = r.u32('version');
      if (version !== SNAPSHOT_FORMAT_VERSION) {
        throw new SnapshotError('SNAPSHOT_UNSUPPORTED_VERSION', `format version ${version}`, {
          version,
        });
      }
      const chainIdHash = r.bytes(HASH_SIZE, 'chainIdHash');
      const height = r.u32('height');
      const blockHash = r.bytes(HASH_SIZE, 'blockHash');
      const coinCount = r.u64('coinCount');
      const stateCount = r.u64('stateCount');
      const chunkBytes = r.u32('chunkBytes');
      if (chunkBytes < 1024 || chunkBytes > MAX_CHUNK_BYTES)
        throw new DecodeError('out-of-range', r.what, { field: 'chunkBytes' });
      const block = Block.decode(r.varBytes(MAX_BLOCK_BYTES, 'block'));
      const commit = CommitCertificate.decode(r.varBytes(MAX_COMMIT_BYTES, 'commit'));
      const validatorCount = r.varint(MAX_VALIDATORS, 'validators');
      const validators = [];
      for (let i = 0; i < validatorCount; i++)
        validators.push({ publicKey: r.bytes(PUBKEY_SIZE, 'publicKey'), power: r.u64('power') });
      const chunkCount = r.varint(MAX_CHUNKS, 'chunks');
      const chunkHashes: Uint8Array[] = [];
      for (let i = 0; i < chunkCount; i++) chunkHashes.push(r.bytes(HASH_SIZE, 'chunkHash'));
      return {
        version,
        chainIdHash,
        height,
        blockHash,
        coinCount,
        stateCount,
        chunkBytes,
        block,
        commit,
        validators: new ValidatorSet(validators),
        chunkHashes,
      };
    }),
  );
}

/** Bytes of one coin record: kind + outpoint key + coin. */
export const COIN_RECORD_BYTES = 1 + OUTPOINT_SIZE + COIN_SIZE;

/** Encodes a chunk: its index, the record count, then the records. */
export function encodeChunk(index: number, records: readonly SnapshotRecord[]): Uint8Array {
  const w = new Writer(16 + records.length * COIN_RECORD_BYTES);
  w.u32(index).varint(records.length);
  for (const rec of records) writeRecord(w, rec);
  return w.finish();
}

export function recordSize(rec: SnapshotRecord): number {
  if (rec.kind === 'coin') return COIN_RECORD_BYTES;
  return 1 + 5 + rec.key.length + 5 + rec.value.length;
}

function writeRecord(w: Writer, rec: SnapshotRecord): void {
  if (rec.kind === 'coin') w.u8(RecordKind.coin).bytes(rec.key).bytes(rec.coin);
  else w.u8(RecordKind.state).varBytes(rec.key).varBytes(rec.value);
}

export function decodeChunk(bytes: Uint8Array): { index: number; records: SnapshotRecord[] } {
  if (bytes.length > MAX_CHUNK_BYTES)
    throw new SnapshotError('SNAPSHOT_MALFORMED', `chunk of ${bytes.length} bytes`);
  return strictly('chunk', () =>
    decodeExact(bytes, 'snapshot chunk', (r) => {
      const index = r.u32('index');
      const count = r.varint(Math.floor(MAX_CHUNK_BYTES / COIN_RECORD_BYTES) + 1, 'records');
      const records: SnapshotRecord[] = [];
      for (let i = 0; i < count; i++) records.push(readRecord(r));
      return { index, records };
    }),
  );
}

function readRecord(r: Reader): SnapshotRecord {
  const kind = r.u8('kind');
  if (kind === RecordKind.coin)
    return {
      kind: 'coin',
      key: r.bytes(OUTPOINT_SIZE, 'outpoint'),
      coin: r.bytes(COIN_SIZE, 'coin'),
    };
  if (kind === RecordKind.state) {
    const key = r.varBytes(MAX_STATE_KEY_BYTES, 'state.key');
    return { kind: 'state', key, value: r.varBytes(MAX_STATE_VALUE_BYTES, 'state.value') };
  }
  throw new DecodeError('invalid-value', r.what, { field: 'kind', value: kind });
}

/** Turns any decode failure into SNAPSHOT_MALFORMED; snapshot errors pass through. */
function strictly<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof SnapshotError) throw error;
    throw new SnapshotError(
      'SNAPSHOT_MALFORMED',
      `${what} does not decode: ${asError(error).message}`,
      {},
      { cause: error },
    );
  }
}
