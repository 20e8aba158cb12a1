import type { Reader, Writer } from '../encoding/index.ts';
import { toHex } from '../util/index.ts';
import { HASH_SIZE } from './limits.ts';

/** A reference to output `index` of transaction `txid`. */
export interface Outpoint {
  readonly txid: Uint8Array;
  readonly index: number;
}

export const OUTPOINT_SIZE = HASH_SIZE + 4;

export function writeOutpoint(w: Writer, outpoint: Outpoint): void {
  w.bytes(outpoint.txid).u32(outpoint.index);
}

export function readOutpoint(r: Reader): Outpoint {
  return { txid: r.bytes(HASH_SIZE, 'outpoint.txid'), index: r.u32('outpoint.index') };
}

/** The 36-byte key (txid || index LE) under which a coin is stored and cached. */
export function outpointKey(outpoint: Outpoint): Uint8Array {
  const key = new Uint8Array(OUTPOINT_SIZE);
  key.set(outpoint.txid, 0);
  // Hot path (every input and output of every block): no DataView allocation.
  const index = outpoint.index;
  key[32] = index & 0xff;
  key[33] = (index >>> 8) & 0xff;
  key[34] = (index >>> 16) & 0xff;
  key[35] = index >>> 24;
  return key;
}

export function outpointFromKey(key: Uint8Array): Outpoint {
  return {
    txid: key.slice(0, HASH_SIZE),
    index: new DataView(key.buffer, key.byteOffset, key.byteLength).getUint32(HASH_SIZE, true),
  };
}

export function outpointToString(outpoint: Outpoint): string {
  return `${toHex(outpoint.txid)}:${outpoint.index}`;
}
