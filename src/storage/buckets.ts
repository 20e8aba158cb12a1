import { concatBytes } from '../util/index.ts';

/**
 * One-byte key prefixes. Every record kind lives in its own bucket so a range
 * scan of one never touches another. Values are never renumbered: a change of
 * layout bumps SCHEMA_VERSION and adds a step to the chain's migrations
 * (src/chain/migrations.ts), which every start runs on an older database.
 */
export const Bucket = {
  meta: 0x00,
  coin: 0x01,
  block: 0x02,
  heightIndex: 0x03,
  undo: 0x04,
  txIndex: 0x05,
  checkpoint: 0x06,
  commit: 0x07,
  signerState: 0x08,
  /** lock hash (32) + outpoint key (36) -> nothing: an address's unspent coins. */
  addressCoin: 0x09,
  /** lock hash (32) + height BE (4) + tx position BE (4) -> txid: an address's history. */
  addressTx: 0x0a,
  /** Hash-chained audit log: sequence u64 BE -> entry. */
  audit: 0x0b,
  /** API keys, refresh tokens, revoked token ids, signing keys (src/api/auth). */
  auth: 0x0c,
  /** Banned peers with their expiry (src/p2p). */
  peerBan: 0x0d,
  /** State tree nodes: version u32 BE + node hash (32) -> node record (src/state). */
  stateNode: 0x0e,
  /** Current state values: raw state key -> value (src/state). */
  stateValue: 0x0f,
  /** State undo records and roots: height u32 BE -> undo record (src/state). */
  stateUndo: 0x10,
  /**
   * Node-local index of validator-set changes: height u32 BE -> the set that
   * signs from that height (src/chain). Schema 1 kept it in the meta bucket.
   */
  validatorSetHistory: 0x11,
} as const;
export type Bucket = (typeof Bucket)[keyof typeof Bucket];

/** 2: the validator-set history moved out of the meta bucket into its own. */
export const SCHEMA_VERSION = 2;

export function bucketKey(bucket: Bucket, ...parts: Uint8Array[]): Uint8Array {
  return concatBytes(Uint8Array.of(bucket), ...parts);
}

/** Big-endian so that keys of consecutive heights sort in height order. */
export function heightKey(bucket: Bucket, height: number): Uint8Array {
  const key = new Uint8Array(5);
  key[0] = bucket;
  new DataView(key.buffer).setUint32(1, height, false);
  return key;
}

export function metaKey(name: string): Uint8Array {
  return bucketKey(Bucket.meta, new TextEncoder().encode(name));
}
