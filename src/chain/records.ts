import { MUHASH_STATE_BYTES, sha256 } from '../crypto/index.ts';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import {
  COIN_SIZE,
  HASH_SIZE,
  MAX_BLOCK_BYTES,
  MAX_TX_INPUTS,
  OUTPOINT_SIZE,
} from '../primitives/index.ts';
import { bytesEqual } from '../util/index.ts';

/**
 * Records the chain keeps in LevelDB besides blocks and coins. The ones the
 * node replays after a crash (tip, undo) end in a SHA-256 of their payload, so
 * a torn or bit-flipped record is reported as corruption, never used.
 */

function withChecksum(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(payload.length + HASH_SIZE);
  out.set(payload, 0);
  out.set(sha256(payload), payload.length);
  return out;
}

function verifyChecksum(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length < HASH_SIZE) throw new DecodeError('truncated', what);
  const payload = bytes.subarray(0, bytes.length - HASH_SIZE);
  if (!bytesEqual(sha256(payload), bytes.subarray(bytes.length - HASH_SIZE))) {
    throw new DecodeError('invalid-value', what, { field: 'checksum' });
  }
  return payload;
}

export interface TipRecord {
  readonly height: number;
  readonly hash: Uint8Array;
  /** Serialized MuHash3072 state of the UTXO set at this tip. */
  readonly utxoState: Uint8Array;
}

export function encodeTip(tip: TipRecord): Uint8Array {
  return withChecksum(
    new Writer(4 + HASH_SIZE + MUHASH_STATE_BYTES)
      .u32(tip.height)
      .bytes(tip.hash)
      .bytes(tip.utxoState)
      .finish(),
  );
}

export function decodeTip(bytes: Uint8Array): TipRecord {
  return decodeExact(verifyChecksum(bytes, 'tip record'), 'tip record', (r) => ({
    height: r.u32('height'),
    hash: r.bytes(HASH_SIZE, 'hash'),
    utxoState: r.bytes(MUHASH_STATE_BYTES, 'utxoState'),
  }));
}

/** A coin a block spent, with its key, so disconnect can put it back. */
export interface SpentCoin {
  readonly key: Uint8Array;
  readonly coin: Uint8Array;
}

export function encodeUndo(spent: readonly SpentCoin[]): Uint8Array {
  const w = new Writer(8 + spent.length * (OUTPOINT_SIZE + COIN_SIZE)).varint(spent.length);
  for (const s of spent) w.bytes(s.key).bytes(s.coin);
  return withChecksum(w.finish());
}

const MAX_UNDO_ENTRIES = Math.ceil(MAX_BLOCK_BYTES / 133) + MAX_TX_INPUTS;

export function decodeUndo(bytes: Uint8Array): SpentCoin[] {
  return decodeExact(verifyChecksum(bytes, 'undo record'), 'undo record', (r: Reader) => {
    const count = r.varint(MAX_UNDO_ENTRIES, 'count');
    const spent: SpentCoin[] = [];
    for (let i = 0; i < count; i++)
      spent.push({ key: r.bytes(OUTPOINT_SIZE, 'key'), coin: r.bytes(COIN_SIZE, 'coin') });
    return spent;
  });
}

export interface TxLocation {
  readonly height: number;
  readonly index: number;
}

export function encodeTxLocation(location: TxLocation): Uint8Array {
  return new Writer(8).u32(location.height).u32(location.index).finish();
}

export function decodeTxLocation(bytes: Uint8Array): TxLocation {
  return decodeExact(bytes, 'tx location', (r) => ({
    height: r.u32('height'),
    index: r.u32('index'),
  }));
}

/** Every `checkpointInterval` blocks: enough to check a replay against without history. */
export interface Checkpoint {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly utxoRoot: Uint8Array;
  /** MuHash state at the checkpoint, so verification can resume from it. */
  readonly utxoState: Uint8Array;
}

export function encodeCheckpoint(cp: Checkpoint): Uint8Array {
  return withChecksum(
    new Writer(4 + 2 * HASH_SIZE + MUHASH_STATE_BYTES)
      .u32(cp.height)
      .bytes(cp.hash)
      .bytes(cp.utxoRoot)
      .bytes(cp.utxoState)
      .finish(),
  );
}

export function decodeCheckpoint(bytes: Uint8Array): Checkpoint {
  return decodeExact(verifyChecksum(bytes, 'checkpoint'), 'checkpoint', (r) => ({
    height: r.u32('height'),
    hash: r.bytes(HASH_SIZE, 'hash'),
    utxoRoot: r.bytes(HASH_SIZE, 'utxoRoot'),
    utxoState: r.bytes(MUHASH_STATE_BYTES, 'utxoState'),
  }));
}
