import { Tag, taggedHash } from '../crypto/index.ts';
import { DecodeError, decodeExact, Writer } from '../encoding/index.ts';
import { Bucket } from '../storage/index.ts';
import { bytesKey } from '../util/index.ts';
import { MAX_STATE_VALUE_BYTES } from './keys.ts';
import { EMPTY_TREE_ROOT, equalBytes, hashBit, STATE_HASH_BITS } from './proof.ts';

/**
 * The sparse Merkle tree over 256-bit key hashes (docs/state.md). A subtree
 * holding one leaf is that leaf, wherever it sits, and an empty subtree is
 * EMPTY_TREE_ROOT, so depth grows with the log of the number of keys. Every
 * stored node has a version (the height that created it): a node is stored
 * under (version, hash), so a node that leaves the tree and comes back later
 * is a new record and pruning the old one never breaks a newer tree.
 */

// The node's hashes through node:crypto (the fast path); proof.ts has the pure twin.
export const hashes = {
  key: (rawKey: Uint8Array) => taggedHash(Tag.stateKey, rawKey),
  value: (value: Uint8Array) => taggedHash(Tag.stateValue, value),
  leaf: (keyHash: Uint8Array, valueHash: Uint8Array) =>
    taggedHash(Tag.stateLeaf, keyHash, valueHash),
  node: (left: Uint8Array, right: Uint8Array) => taggedHash(Tag.stateNode, left, right),
};

export interface NodeRef {
  readonly hash: Uint8Array;
  readonly version: number;
}

export const EMPTY_REF: NodeRef = { hash: EMPTY_TREE_ROOT, version: 0 };

export function isEmptyRef(ref: NodeRef): boolean {
  return equalBytes(ref.hash, EMPTY_TREE_ROOT);
}

export type TreeNode =
  | { readonly kind: 'leaf'; readonly keyHash: Uint8Array; readonly value: Uint8Array }
  | { readonly kind: 'inner'; readonly left: NodeRef; readonly right: NodeRef };

const LEAF = 1;
const INNER = 2;

export function encodeNode(node: TreeNode): Uint8Array {
  const w = new Writer(node.kind === 'leaf' ? 40 + node.value.length : 73);
  if (node.kind === 'leaf') w.u8(LEAF).bytes(node.keyHash).varBytes(node.value);
  else {
    w.u8(INNER).bytes(node.left.hash).u32(node.left.version);
    w.bytes(node.right.hash).u32(node.right.version);
  }
  return w.finish();
}

export function decodeNode(bytes: Uint8Array): TreeNode {
  return decodeExact(bytes, 'state node', (r) => {
    const kind = r.u8('node.kind');
    if (kind === LEAF) {
      return {
        kind: 'leaf',
        keyHash: r.bytes(32, 'node.keyHash'),
        value: r.varBytes(MAX_STATE_VALUE_BYTES, 'node.value'),
      };
    }
    if (kind !== INNER) throw new DecodeError('invalid-value', r.what, { field: 'node.kind' });
    const left = { hash: r.bytes(32, 'node.left'), version: r.u32('node.leftVersion') };
    const right = { hash: r.bytes(32, 'node.right'), version: r.u32('node.rightVersion') };
    return { kind: 'inner', left, right };
  });
}

export function nodeHash(node: TreeNode): Uint8Array {
  return node.kind === 'leaf'
    ? hashes.leaf(node.keyHash, hashes.value(node.value))
    : hashes.node(node.left.hash, node.right.hash);
}

/** The LevelDB key of a stored node: bucket, version u32 BE, hash. */
export function nodeDbKey(ref: NodeRef): Uint8Array {
  const key = new Uint8Array(37);
  key[0] = Bucket.stateNode;
  new DataView(key.buffer).setUint32(1, ref.version, false);
  key.set(ref.hash, 5);
  return key;
}

export interface NodeLoader {
  load(ref: NodeRef): Promise<TreeNode>;
}

/** One net change of a block, by key hash. `value` null deletes. */
export interface TreeChange {
  readonly keyHash: Uint8Array;
  readonly value: Uint8Array | null;
}

interface Entry {
  readonly keyHash: Uint8Array;
  readonly value: Uint8Array;
  /** Set when this is an existing, unchanged leaf: it is reused, not rewritten. */
  readonly ref?: NodeRef;
}

interface Kinded extends NodeRef {
  kind?: 'leaf' | 'inner' | 'empty';
}

export interface StoredNode {
  readonly ref: NodeRef;
  readonly record: Uint8Array;
}

export interface TreeUpdateResult {
  readonly root: NodeRef;
  /** Nodes to write, all at the update's version. */
  readonly created: StoredNode[];
  /** Nodes of the old tree that the new one no longer has (kept for undo and pruning). */
  readonly staled: StoredNode[];
}

/**
 * Applies `changes` (sorted by key hash, no duplicates, each a real change)
 * to the tree at `root`, giving the new root in O(k log n) node reads.
 */
export async function updateTree(
  loader: NodeLoader,
  root: NodeRef,
  changes: readonly TreeChange[],
  version: number,
): Promise<TreeUpdateResult> {
  const run = new TreeUpdate(loader, version);
  const newRoot = await run.update(root, 0, changes);
  return {
    root: { hash: newRoot.hash, version: newRoot.version },
    created: [...run.created.values()],
    staled: [...run.staled.values()],
  };
}

class TreeUpdate {
  readonly created = new Map<string, StoredNode>();
  readonly staled = new Map<string, StoredNode>();
  private readonly loader: NodeLoader;
  private readonly version: number;

  constructor(loader: NodeLoader, version: number) {
    this.loader = loader;
    this.version = version;
  }

  async update(ref: NodeRef, depth: number, changes: readonly TreeChange[]): Promise<Kinded> {
    if (changes.length === 0) return ref;
    if (isEmptyRef(ref)) return this.build(depth, putsOf(changes));
    const node = await this.loader.load(ref);
    this.staled.set(bytesKey(nodeDbKey(ref)), { ref, record: encodeNode(node) });
    if (node.kind === 'leaf') {
      const entries = putsOf(changes);
      if (!changes.some((c) => equalBytes(c.keyHash, node.keyHash))) {
        entries.push({ keyHash: node.keyHash, value: node.value, ref });
        entries.sort((a, b) => compare(a.keyHash, b.keyHash));
      }
      return this.build(depth, entries);
    }
    const split = splitIndex(changes, depth);
    const left = await this.update(node.left, depth + 1, changes.slice(0, split));
    const right = await this.update(node.right, depth + 1, changes.slice(split));
    return this.combine(left, right);
  }

  private async build(depth: number, entries: readonly Entry[]): Promise<Kinded> {
    if (entries.length === 0) return { ...EMPTY_REF, kind: 'empty' };
    if (entries.length === 1) {
      const entry = entries[0]!;
      if (entry.ref !== undefined) {
        this.staled.delete(bytesKey(nodeDbKey(entry.ref)));
        return { ...entry.ref, kind: 'leaf' };
      }
      return {
        ...this.create({ kind: 'leaf', keyHash: entry.keyHash, value: entry.value }),
        kind: 'leaf',
      };
    }
    if (depth >= STATE_HASH_BITS) throw new RangeError('state tree: two entries with one key hash');
    const split = splitIndex(entries, depth);
    const left = await this.build(depth + 1, entries.slice(0, split));
    const right = await this.build(depth + 1, entries.slice(split));
    return this.combine(left, right);
  }

  /** An inner node over two subtrees, or the lone leaf lifted when the other side is empty. */
  private async combine(left: Kinded, right: Kinded): Promise<Kinded> {
    const leftEmpty = isEmptyRef(left);
    const rightEmpty = isEmptyRef(right);
    if (leftEmpty && rightEmpty) return { ...EMPTY_REF, kind: 'empty' };
    if (leftEmpty || rightEmpty) {
      const other = leftEmpty ? right : left;
      if ((await this.kindOf(other)) === 'leaf') return other;
    }
    return {
      ...this.create({
        kind: 'inner',
        left: { hash: left.hash, version: left.version },
        right: { hash: right.hash, version: right.version },
      }),
      kind: 'inner',
    };
  }

  private async kindOf(ref: Kinded): Promise<'leaf' | 'inner' | 'empty'> {
    if (ref.kind !== undefined) return ref.kind;
    return (await this.loader.load(ref)).kind;
  }

  private create(node: TreeNode): NodeRef {
    const hash = nodeHash(node);
    const ref = { hash, version: this.version };
    const key = bytesKey(nodeDbKey(ref));
    // The same node dropped and recreated by one update stays as it was.
    if (this.staled.delete(key)) return ref;
    this.created.set(key, { ref, record: encodeNode(node) });
    return ref;
  }
}

function putsOf(changes: readonly TreeChange[]): Entry[] {
  const entries: Entry[] = [];
  for (const c of changes)
    if (c.value !== null) entries.push({ keyHash: c.keyHash, value: c.value });
  return entries;
}

function splitIndex(items: readonly { keyHash: Uint8Array }[], depth: number): number {
  let i = 0;
  while (i < items.length && hashBit(items[i]!.keyHash, depth) === 0) i++;
  return i;
}

function compare(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/**
 * The proof for `keyHash` under `root`: walks down collecting siblings until
 * an empty subtree or a leaf ends the path.
 */
export async function proveKey(
  loader: NodeLoader,
  root: NodeRef,
  keyHash: Uint8Array,
): Promise<{
  siblings: (Uint8Array | null)[];
  terminal: { kind: 'empty' } | { kind: 'leaf'; keyHash: Uint8Array; valueHash: Uint8Array };
  value: Uint8Array | null;
}> {
  const siblings: (Uint8Array | null)[] = [];
  let ref = root;
  for (let depth = 0; ; depth++) {
    if (isEmptyRef(ref)) return { siblings, terminal: { kind: 'empty' }, value: null };
    const node = await loader.load(ref);
    if (node.kind === 'leaf') {
      const terminal = {
        kind: 'leaf' as const,
        keyHash: node.keyHash,
        valueHash: hashes.value(node.value),
      };
      return { siblings, terminal, value: equalBytes(node.keyHash, keyHash) ? node.value : null };
    }
    if (depth >= STATE_HASH_BITS) throw new RangeError('state tree deeper than 256');
    const bit = hashBit(keyHash, depth);
    const sibling = bit === 0 ? node.right : node.left;
    siblings.push(isEmptyRef(sibling) ? null : sibling.hash);
    ref = bit === 0 ? node.left : node.right;
  }
}
