import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';

export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}

/**
 * Domain-separated hash (as in BIP-340): SHA256(SHA256(tag) || SHA256(tag) || msg).
 * Every hash that the protocol commits to uses its own tag, so a digest of one
 * kind can never be replayed as another (a txid as a block hash, a vote as a
 * sighash...). The 64-byte prefix is precomputed once per tag.
 */
export function taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  const h = nobleSha256.create();
  h.update(tagPrefix(tag));
  for (const part of parts) h.update(part);
  return h.digest();
}

const prefixes = new Map<string, Uint8Array>();

function tagPrefix(tag: string): Uint8Array {
  let prefix = prefixes.get(tag);
  if (prefix === undefined) {
    const t = nobleSha256(utf8ToBytes(tag));
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
  commit: 'utxod/commit',
  validatorSet: 'utxod/validator-set',
  lockHash: 'utxod/lock',
  genesis: 'utxod/genesis',
  chainId: 'utxod/chain-id',
  utxoSet: 'utxod/utxo-set',
} as const;
