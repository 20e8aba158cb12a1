/**
 * The state tree's hashing, proof format and proof verifier, with no Node-only
 * import: wallet apps and browsers check state values through the SDK with
 * this file alone (SHA-256 from @noble/hashes). The node's store hashes with
 * node:crypto instead (src/state/hashing.ts); a test asserts both agree.
 * Byte-level definitions: docs/state.md.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';

/** Equal to the `state*` entries of `Tag` in src/crypto/hash.ts (checked by a test). */
export const STATE_TAGS = {
  key: 'utxod/state-key',
  value: 'utxod/state-value',
  leaf: 'utxod/state-leaf',
  node: 'utxod/state-node',
  empty: 'utxod/state-empty',
} as const;

export const STATE_HASH_BITS = 256;

const prefixes = new Map<string, Uint8Array>();

function pureTaggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
  let prefix = prefixes.get(tag);
  if (prefix === undefined) {
    const t = sha256(new TextEncoder().encode(tag));
    prefix = new Uint8Array(64);
    prefix.set(t, 0);
    prefix.set(t, 32);
    prefixes.set(tag, prefix);
  }
  let length = 64;
  for (const part of parts) length += part.length;
  const preimage = new Uint8Array(length);
  preimage.set(prefix, 0);
  let offset = 64;
  for (const part of parts) {
    preimage.set(part, offset);
    offset += part.length;
  }
  return sha256(preimage);
}

export const pureHashes = {
  key: (rawKey: Uint8Array) => pureTaggedHash(STATE_TAGS.key, rawKey),
  value: (value: Uint8Array) => pureTaggedHash(STATE_TAGS.value, value),
  leaf: (keyHash: Uint8Array, valueHash: Uint8Array) =>
    pureTaggedHash(STATE_TAGS.leaf, keyHash, valueHash),
  node: (left: Uint8Array, right: Uint8Array) => pureTaggedHash(STATE_TAGS.node, left, right),
};

/** The root of the empty tree, and the hash of every empty subtree. */
export const EMPTY_TREE_ROOT: Uint8Array = pureTaggedHash(STATE_TAGS.empty);

/** Bit `i` of a 256-bit hash, most significant bit of byte 0 first; 0 = left. */
export function hashBit(hash: Uint8Array, i: number): number {
  return (hash[i >> 3]! >> (7 - (i & 7))) & 1;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export type ProofTerminal =
  | { readonly kind: 'empty' }
  | { readonly kind: 'leaf'; readonly keyHash: Uint8Array; readonly valueHash: Uint8Array };

/**
 * The path from the root to where `key` is or would be: the sibling hash at
 * each depth (null = empty subtree), root side first, and what ends the path.
 */
export interface StateProof {
  readonly siblings: readonly (Uint8Array | null)[];
  readonly terminal: ProofTerminal;
}

export function encodeProof(proof: StateProof): Uint8Array {
  const depth = proof.siblings.length;
  const bitmap = new Uint8Array(Math.ceil(depth / 8));
  const present: Uint8Array[] = [];
  proof.siblings.forEach((sibling, i) => {
    if (sibling === null) return;
    bitmap[i >> 3]! |= 0x80 >> (i & 7);
    present.push(sibling);
  });
  const w = new Writer(4 + bitmap.length + present.length * 32 + 65);
  w.u16(depth).bytes(bitmap);
  for (const sibling of present) w.bytes(sibling);
  if (proof.terminal.kind === 'empty') w.u8(0);
  else w.u8(1).bytes(proof.terminal.keyHash).bytes(proof.terminal.valueHash);
  return w.finish();
}

/** Strict: one encoding per proof (padding bits zero, no explicit empty sibling). */
export function decodeProof(bytes: Uint8Array): StateProof {
  return decodeExact(bytes, 'state proof', readProof);
}

function readProof(r: Reader): StateProof {
  const depth = r.u16('proof.depth');
  if (depth > STATE_HASH_BITS) {
    throw new DecodeError('too-large', r.what, { field: 'proof.depth', value: depth });
  }
  const bitmap = r.bytes(Math.ceil(depth / 8), 'proof.bitmap');
  if (depth % 8 !== 0 && (bitmap[bitmap.length - 1]! & (0xff >> (depth % 8))) !== 0) {
    throw new DecodeError('invalid-value', r.what, { field: 'proof.bitmap', reason: 'padding' });
  }
  const siblings: (Uint8Array | null)[] = [];
  for (let i = 0; i < depth; i++) {
    if ((bitmap[i >> 3]! & (0x80 >> (i & 7))) === 0) {
      siblings.push(null);
      continue;
    }
    const sibling = r.bytes(32, 'proof.sibling');
    if (equalBytes(sibling, EMPTY_TREE_ROOT)) {
      throw new DecodeError('invalid-value', r.what, { field: 'proof.sibling', reason: 'empty' });
    }
    siblings.push(sibling);
  }
  const kind = r.u8('proof.terminal');
  let terminal: ProofTerminal;
  if (kind === 0) terminal = { kind: 'empty' };
  else if (kind === 1) {
    terminal = {
      kind: 'leaf',
      keyHash: r.bytes(32, 'proof.keyHash'),
      valueHash: r.bytes(32, 'proof.valueHash'),
    };
  } else {
    throw new DecodeError('invalid-value', r.what, { field: 'proof.terminal', value: kind });
  }
  return { siblings, terminal };
}

/**
 * True iff `proof` shows that under `root` the raw key `key` holds `value`
 * (inclusion) or, with `value` null, that it is absent (exclusion). Pure.
 */
export function verifyProof(
  root: Uint8Array,
  key: Uint8Array,
  value: Uint8Array | null,
  proof: StateProof,
): boolean {
  const depth = proof.siblings.length;
  if (depth > STATE_HASH_BITS) return false;
  // A compressed tree never has a leaf or an empty subtree beside an empty
  // sibling: such a proof describes no tree this store builds.
  if (depth > 0 && proof.siblings[depth - 1] === null) return false;
  const keyHash = pureHashes.key(key);
  let hash: Uint8Array;
  const { terminal } = proof;
  if (terminal.kind === 'empty') {
    if (value !== null) return false;
    hash = EMPTY_TREE_ROOT;
  } else {
    const sameKey = equalBytes(terminal.keyHash, keyHash);
    if (value !== null) {
      if (!sameKey || !equalBytes(terminal.valueHash, pureHashes.value(value))) return false;
    } else {
      if (sameKey) return false;
      // The other leaf must sit on this key's path, else it proves nothing about it.
      for (let i = 0; i < depth; i++) {
        if (hashBit(terminal.keyHash, i) !== hashBit(keyHash, i)) return false;
      }
    }
    hash = pureHashes.leaf(terminal.keyHash, terminal.valueHash);
  }
  for (let i = depth - 1; i >= 0; i--) {
    const sibling = proof.siblings[i] ?? EMPTY_TREE_ROOT;
    hash =
      hashBit(keyHash, i) === 0 ? pureHashes.node(hash, sibling) : pureHashes.node(sibling, hash);
  }
  return equalBytes(hash, root);
}

/**
 * The root of the tree holding exactly `entries` (raw key -> value), built
 * from scratch: the reference the incremental store is tested against, and
 * what a snapshot consumer recomputes. O(n log n).
 */
export function computeRoot(
  entries: Iterable<{ readonly key: Uint8Array; readonly value: Uint8Array }>,
): Uint8Array {
  const leaves: { keyHash: Uint8Array; leaf: Uint8Array }[] = [];
  for (const { key, value } of entries) {
    const keyHash = pureHashes.key(key);
    leaves.push({ keyHash, leaf: pureHashes.leaf(keyHash, pureHashes.value(value)) });
  }
  leaves.sort((a, b) => compareHashes(a.keyHash, b.keyHash));
  return subtreeRoot(leaves, 0, leaves.length, 0);
}

function subtreeRoot(
  leaves: readonly { keyHash: Uint8Array; leaf: Uint8Array }[],
  from: number,
  to: number,
  depth: number,
): Uint8Array {
  if (to === from) return EMPTY_TREE_ROOT;
  if (to - from === 1) return leaves[from]!.leaf;
  if (depth >= STATE_HASH_BITS) throw new RangeError('computeRoot: duplicate key');
  let split = from;
  while (split < to && hashBit(leaves[split]!.keyHash, depth) === 0) split++;
  return pureHashes.node(
    subtreeRoot(leaves, from, split, depth + 1),
    subtreeRoot(leaves, split, to, depth + 1),
  );
}

export function compareHashes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i]! - b[i]!;
  }
  return a.length - b.length;
}
