// Node's native one-shot hash in Node, @noble/hashes in a browser bundle of the
// wallet SDK: package.json "imports" picks by the bundler's "browser" condition.
import { sha256 } from '#sha256';

export { sha256 };

/** Preimages up to this size are assembled in `scratch` (see taggedHash). */
const SCRATCH_BYTES = 4096;
const scratch = new Uint8Array(SCRATCH_BYTES);

/**
 * Domain-separated hash (as in BIP-340): SHA256(SHA256(tag) || SHA256(tag) || msg).
 * Every hash that the protocol commits to uses its own tag, so a digest of one
 * kind can never be replayed as another (a txid as a block hash, a vote as a
 * sighash...). The 64-byte prefix is precomputed once per tag.
 */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const prefix = tagPrefix(tag);
  let length = prefix.length;
  for (const part of parts) length += part.length;
  // The preimage is hashed at once, so small ones share one scratch buffer:
  // a typed array over 64 bytes (every preimage here) gets its own off-heap
  // store, and allocating it cost ~30% of a key-hash or sighash (measured on
  // 33-byte keys); profiles of block validation and mempool admission have
  // taggedHash among their largest entries.
  const preimage = length <= SCRATCH_BYTES ? scratch.subarray(0, length) : new Uint8Array(length);
  preimage.set(prefix, 0);
  let offset = prefix.length;
  for (const part of parts) {
    preimage.set(part, offset);
    offset += part.length;
  }
  return sha256(preimage);
}

const prefixes = new Map<string, Uint8Array>();

function tagPrefix(tag: string): Uint8Array {
  let prefix = prefixes.get(tag);
  if (prefix === undefined) {
    const t = sha256(new TextEncoder().encode(tag));
    prefix = new Uint8Array(64);
    prefix.set(t, 0);
    prefix.set(t, 32);
    prefixes.set(tag, prefix);
  }
  return prefix;
}

/** The tags of docs/protocol.md, in one place so none is spelled twice. */
export const Tag = {
  txid: 'utxod/txid',
  wtxid: 'utxod/wtxid',
  sighash: 'utxod/sighash',
  sighashTx: 'utxod/sighash-tx',
  merkleLeaf: 'utxod/merkle-leaf',
  merkleNode: 'utxod/merkle-node',
  blockHash: 'utxod/block',
  vote: 'utxod/vote',
  proposal: 'utxod/proposal',
  commit: 'utxod/commit',
  validatorSet: 'utxod/validator-set',
  lockHash: 'utxod/lock',
  genesis: 'utxod/genesis',
  chainId: 'utxod/chain-id',
  utxoSet: 'utxod/utxo-set',
  stateKey: 'utxod/state-key',
  stateValue: 'utxod/state-value',
  stateLeaf: 'utxod/state-leaf',
  stateNode: 'utxod/state-node',
  stateEmpty: 'utxod/state-empty',
} as const;
