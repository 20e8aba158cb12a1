import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import type { BatchOp, Database } from '../storage/index.ts';
import { Bucket, bucketKey, heightKey, metaKey } from '../storage/index.ts';
import { bytesKey, toHex } from '../util/index.ts';
import { StateError } from './errors.ts';
import { asStateKey, MAX_STATE_KEY_BYTES, MAX_STATE_VALUE_BYTES, type StateKey } from './keys.ts';
import type { StateEntry, StateOverlay, StateReader } from './overlay.ts';
import { compareHashes, computeRoot, equalBytes, type StateProof } from './proof.ts';
import {
  decodeNode,
  EMPTY_REF,
  hashes,
  isEmptyRef,
  type NodeLoader,
  type NodeRef,
  nodeDbKey,
  nodeHash,
  proveKey,
  type StoredNode,
  type TreeChange,
  type TreeNode,
  updateTree,
} from './tree.ts';

export type StateDb = Pick<Database, 'get' | 'getMany' | 'range'>;

export interface StateStoreOptions {
  /** Roots whose nodes are kept for proofs (the tip's included); at least 1. */
  readonly retainRoots: number;
  /** Decoded nodes kept in memory (the top of the tree is read by every update). */
  readonly nodeCacheEntries?: number;
  /** Committed values (and known-absent keys) kept in memory for `get`. */
  readonly valueCacheEntries?: number;
}

export const DEFAULT_RETAIN_ROOTS = 128;
/** Stale-node sets pruned per block at most, so lowering retainRoots costs no long pause. */
const MAX_PRUNE_PER_BLOCK = 8;
const MAX_UNDO_ITEMS = 1 << 22;
const TIP_KEY = metaKey('state-tip');

interface Tip {
  /** -1 before the first (genesis) update. */
  readonly height: number;
  readonly root: NodeRef;
  /** Stale nodes of heights <= this were deleted, so trees below it are gone. */
  readonly prunedStale: number;
}

/** A block's state changes, ready for the block's atomic batch. */
export interface StateUpdate {
  readonly height: number;
  readonly root: Uint8Array;
  readonly ops: readonly BatchOp[];
  readonly tip: Tip;
  readonly created: readonly StoredNode[];
  /** The net value changes (null = deleted), for the value cache once written. */
  readonly values: readonly { readonly key: StateKey; readonly value: Uint8Array | null }[];
}

export interface StateRollback {
  readonly height: number;
  readonly root: Uint8Array;
  readonly ops: readonly BatchOp[];
  readonly tip: Tip;
}

export interface StateProofResult {
  readonly height: number;
  readonly root: Uint8Array;
  readonly value: Uint8Array | null;
  readonly proof: StateProof;
}

interface UndoRecord {
  readonly root: NodeRef;
  readonly prevRoot: NodeRef;
  readonly changed: { key: StateKey; old: Uint8Array | null }[];
  readonly created: Uint8Array[];
  readonly staled: StoredNode[];
}

/**
 * The authenticated key-value store whose root is the header's `stateRoot`
 * (docs/state.md). The store never writes: `prepare` turns a block's overlay
 * into batch operations for the caller's one atomic block batch, and
 * `applyCommitted` moves the in-memory tip once that batch is on disk (the
 * same two steps as the UTXO set). Updates must be prepared one at a time on
 * the committed tip.
 */
export class StateStore implements StateReader, NodeLoader {
  private readonly db: StateDb;
  private readonly retainRoots: number;
  private readonly cacheLimit: number;
  private readonly cache = new Map<string, TreeNode>();
  /**
   * Committed values by raw key (null = known absent). Every block reads the
   * same few records (validator sets, windows, totals): without this each is
   * a LevelDB round trip on the connect path. Changed only by
   * applyCommitted, cleared by a rollback, so it never answers for a state
   * that is not on disk.
   */
  private readonly values = new Map<string, Uint8Array | null>();
  private readonly valueCacheLimit: number;
  private tip: Tip;

  private constructor(opts: StateStoreOptions, db: StateDb, tip: Tip) {
    if (!Number.isInteger(opts.retainRoots) || opts.retainRoots < 1) {
      throw new RangeError(`retainRoots must be a positive integer, got ${opts.retainRoots}`);
    }
    this.db = db;
    this.retainRoots = opts.retainRoots;
    this.cacheLimit = opts.nodeCacheEntries ?? 50_000;
    this.valueCacheLimit = opts.valueCacheEntries ?? 100_000;
    this.tip = tip;
  }

  static async open(opts: StateStoreOptions, modules: { db: StateDb }): Promise<StateStore> {
    const raw = await modules.db.get(TIP_KEY);
    const tip =
      raw === undefined ? { height: -1, root: EMPTY_REF, prunedStale: 0 } : decodeTip(raw);
    return new StateStore(opts, modules.db, tip);
  }

  get height(): number {
    return this.tip.height;
  }

  get root(): Uint8Array {
    return this.tip.root.hash;
  }

  /** The oldest height whose root can still be proven against. */
  get oldestRetained(): number {
    return Math.max(0, this.tip.height - this.retainRoots + 1, this.tip.prunedStale);
  }

  async get(key: StateKey): Promise<Uint8Array | undefined> {
    const k = bytesKey(key);
    const cached = this.values.get(k);
    if (cached !== undefined) return cached ?? undefined;
    const tip = this.tip;
    const raw = await this.db.get(valueKey(key));
    const value = raw === undefined ? null : plain(raw);
    // A block committed during the read may have changed the key: cache only what is current.
    if (this.tip === tip) this.rememberValue(k, value);
    return value ?? undefined;
  }

  private rememberValue(k: string, value: Uint8Array | null): void {
    if (this.values.size >= this.valueCacheLimit && !this.values.has(k)) {
      const oldest = this.values.keys().next().value;
      if (oldest !== undefined) this.values.delete(oldest);
    }
    this.values.set(k, value);
  }

  async *entries(prefix: Uint8Array = new Uint8Array(0)): AsyncGenerator<StateEntry> {
    const gte = bucketKey(Bucket.stateValue, prefix);
    for await (const [k, value] of this.db.range(gte, prefixEnd(gte))) {
      yield { key: asStateKey(plain(k.subarray(1))), value: plain(value) };
    }
  }

  async load(ref: NodeRef): Promise<TreeNode> {
    const dbKey = nodeDbKey(ref);
    const k = bytesKey(dbKey);
    const cached = this.cache.get(k);
    if (cached !== undefined) return cached;
    const raw = await this.db.get(dbKey);
    if (raw === undefined) {
      throw new StateError(
        'STATE_NODE_MISSING',
        `state node ${toHex(ref.hash)} of version ${ref.version} is missing`,
      );
    }
    const node = decodeNode(raw);
    this.remember(k, node);
    return node;
  }

  private remember(k: string, node: TreeNode): void {
    if (this.cache.size >= this.cacheLimit) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(k, node);
  }

  /**
   * The batch operations that take the committed state to `overlay`'s at
   * `height` (the tip's next height): nodes, values, the undo record, the new
   * tip, and the pruning of nodes that left the retained window.
   */
  async prepare(
    overlay: StateOverlay,
    height: number,
    options: { readonly base?: boolean } = {},
  ): Promise<StateUpdate> {
    // A base update fills an empty store with the state of `height` (a node
    // starting from a snapshot): nothing below it exists to prove against.
    const base = options.base === true;
    if (base ? this.tip.height !== -1 : height !== this.tip.height + 1) {
      throw new StateError(
        'STATE_BAD_HEIGHT',
        `${base ? 'base state' : 'state update'} for ${height} on ${this.tip.height}`,
      );
    }
    if (!overlay.isOver(this)) {
      throw new StateError(
        'STATE_FOREIGN_OVERLAY',
        'prepare takes an overlay made directly on this store',
      );
    }
    const staged = overlay.changes();
    const olds = await this.db.getMany(staged.map((s) => valueKey(s.key)));
    const changed: { key: StateKey; old: Uint8Array | null }[] = [];
    const values: { key: StateKey; value: Uint8Array | null }[] = [];
    const treeChanges: TreeChange[] = [];
    const ops: BatchOp[] = [];
    staged.forEach((s, i) => {
      const old = olds[i] ?? null;
      if (old === null && s.value === null) return;
      if (old !== null && s.value !== null && Buffer.compare(old, s.value) === 0) return;
      changed.push({ key: s.key, old });
      values.push({ key: s.key, value: s.value });
      treeChanges.push({ keyHash: hashes.key(s.key), value: s.value });
      ops.push(
        s.value === null
          ? { type: 'del', key: valueKey(s.key) }
          : { type: 'put', key: valueKey(s.key), value: s.value },
      );
    });
    treeChanges.sort((a, b) => compareHashes(a.keyHash, b.keyHash));
    const result = await updateTree(this, this.tip.root, treeChanges, height);
    for (const node of result.created) {
      ops.push({ type: 'put', key: nodeDbKey(node.ref), value: node.record });
    }
    const undo: UndoRecord = {
      root: result.root,
      prevRoot: this.tip.root,
      changed,
      created: result.created.map((n) => n.ref.hash),
      staled: result.staled,
    };
    ops.push({ type: 'put', key: heightKey(Bucket.stateUndo, height), value: encodeUndo(undo) });
    let prunedStale = base ? height - 1 : this.tip.prunedStale;
    // Trees below height + 1 - retainRoots leave the window: the nodes staled
    // by the block right above each of them are no longer needed.
    const lastToPrune = Math.min(height, height - this.retainRoots + 1);
    for (let s = prunedStale + 1; s <= lastToPrune && s <= prunedStale + MAX_PRUNE_PER_BLOCK; s++) {
      const staled = s === height ? undo.staled : (await this.readUndo(s, true))?.staled;
      for (const node of staled ?? []) ops.push({ type: 'del', key: nodeDbKey(node.ref) });
    }
    prunedStale = Math.max(prunedStale, Math.min(lastToPrune, prunedStale + MAX_PRUNE_PER_BLOCK));
    const tip = { height, root: result.root, prunedStale };
    ops.push({ type: 'put', key: TIP_KEY, value: encodeTip(tip) });
    return { height, root: result.root.hash, ops, tip, created: result.created, values };
  }

  /** Call once the batch holding `update.ops` is written. */
  applyCommitted(update: StateUpdate): void {
    this.tip = update.tip;
    for (const { key, value } of update.values) this.rememberValue(bytesKey(key), value);
    for (const node of update.created) {
      this.remember(bytesKey(nodeDbKey(node.ref)), decodeNode(node.record));
    }
  }

  /** The batch operations that undo the tip's update, giving back the previous root exactly. */
  async prepareRollback(): Promise<StateRollback> {
    const height = this.tip.height;
    if (height <= 0)
      throw new StateError('STATE_BAD_HEIGHT', `cannot roll back state at ${height}`);
    const undo = await this.readUndo(height, false);
    if (undo === undefined)
      throw new StateError('STATE_UNDO_MISSING', `no state undo for ${height}`);
    const ops: BatchOp[] = [];
    for (const hash of undo.created)
      ops.push({ type: 'del', key: nodeDbKey({ hash, version: height }) });
    for (const node of undo.staled)
      ops.push({ type: 'put', key: nodeDbKey(node.ref), value: node.record });
    for (const { key, old } of undo.changed) {
      ops.push(
        old === null
          ? { type: 'del', key: valueKey(key) }
          : { type: 'put', key: valueKey(key), value: old },
      );
    }
    ops.push({ type: 'del', key: heightKey(Bucket.stateUndo, height) });
    // The staled nodes of `height` are back, so that height is no longer pruned.
    const tip = {
      height: height - 1,
      root: undo.prevRoot,
      prunedStale: Math.min(this.tip.prunedStale, height - 1),
    };
    ops.push({ type: 'put', key: TIP_KEY, value: encodeTip(tip) });
    return { height: height - 1, root: undo.prevRoot.hash, ops, tip };
  }

  applyRolledBack(rollback: StateRollback): void {
    this.tip = rollback.tip;
    this.values.clear();
    // Rolled-back nodes may come back with other content under no key, but a
    // cached node under a deleted key must not answer for a later tree.
    this.cache.clear();
  }

  /** The root committed at `height`, if that height is within the retained window. */
  async rootAt(height: number): Promise<NodeRef> {
    if (height === this.tip.height) return this.tip.root;
    if (!Number.isInteger(height) || height < this.oldestRetained || height > this.tip.height) {
      throw new StateError(
        'STATE_ROOT_NOT_RETAINED',
        `no state root retained for height ${height} (retained ${this.oldestRetained}..${this.tip.height})`,
      );
    }
    const undo = await this.readUndo(height, false);
    if (undo === undefined)
      throw new StateError('STATE_UNDO_MISSING', `no state undo for ${height}`);
    return undo.root;
  }

  /** The newest retained height whose root is `root`, if any (at most retainRoots reads). */
  async heightOfRoot(root: Uint8Array): Promise<number | undefined> {
    for (let h = this.tip.height; h >= this.oldestRetained && h >= 0; h--) {
      if (equalBytes((await this.rootAt(h)).hash, root)) return h;
    }
    return undefined;
  }

  /**
   * Inclusion or exclusion proof of `key` at the tip, at a retained `height`,
   * or against a retained `root`.
   */
  async prove(
    key: StateKey,
    at: { height?: number; root?: Uint8Array } = {},
  ): Promise<StateProofResult> {
    let height = at.height ?? this.tip.height;
    if (at.root !== undefined) {
      const found = await this.heightOfRoot(at.root);
      if (found === undefined) {
        throw new StateError('STATE_ROOT_NOT_RETAINED', `root ${toHex(at.root)} is not retained`);
      }
      height = found;
    }
    const root = await this.rootAt(height);
    const { siblings, terminal, value } = await proveKey(this, root, hashes.key(key));
    return { height, root: root.hash, value, proof: { siblings, terminal } };
  }

  /**
   * Recomputes the root from every stored value and compares it with the
   * tip's root, and walks the tip's tree to check each leaf against the value
   * bucket: what `verify-chain` runs. Throws STATE_CORRUPT naming the fault.
   */
  async verify(): Promise<{ entries: number; root: Uint8Array }> {
    const entries: StateEntry[] = [];
    for await (const entry of this.entries()) entries.push(entry);
    const recomputed = computeRoot(entries);
    if (!equalBytes(recomputed, this.tip.root.hash)) {
      throw new StateError(
        'STATE_CORRUPT',
        `state values give root ${toHex(recomputed)}, the tip records ${toHex(this.tip.root.hash)}`,
      );
    }
    let leaves = 0;
    const walk = async (ref: NodeRef): Promise<void> => {
      if (isEmptyRef(ref)) return;
      const node = await this.load(ref);
      if (!equalBytes(nodeHash(node), ref.hash)) {
        throw new StateError(
          'STATE_CORRUPT',
          `state node ${toHex(ref.hash)} does not hash to itself`,
        );
      }
      if (node.kind === 'leaf') leaves++;
      else {
        await walk(node.left);
        await walk(node.right);
      }
    };
    await walk(this.tip.root);
    if (leaves !== entries.length) {
      throw new StateError(
        'STATE_CORRUPT',
        `${leaves} leaves in the tree, ${entries.length} values`,
      );
    }
    return { entries: entries.length, root: recomputed };
  }

  /**
   * The keys block `height` changed and their values before it (null =
   * absent), from its undo record: what a replay needs to rewind the state
   * without touching the store. Throws STATE_UNDO_MISSING.
   */
  async changesAt(
    height: number,
  ): Promise<readonly { readonly key: StateKey; readonly old: Uint8Array | null }[]> {
    const undo = await this.readUndo(height, false);
    return undo!.changed;
  }

  private async readUndo(height: number, lenient: boolean): Promise<UndoRecord | undefined> {
    const raw = await this.db.get(heightKey(Bucket.stateUndo, height));
    if (raw === undefined) {
      if (lenient) return undefined;
      throw new StateError('STATE_UNDO_MISSING', `no state undo for ${height}`);
    }
    return decodeUndo(raw, height);
  }
}

/** LevelDB hands back Buffers; callers compare values with plain Uint8Arrays. */
function plain(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function valueKey(key: StateKey): Uint8Array {
  return bucketKey(Bucket.stateValue, key);
}

/** The smallest key above every key starting with `prefix`. */
function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = new Uint8Array(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  return Uint8Array.of(Bucket.stateValue + 1);
}

function writeRef(w: Writer, ref: NodeRef): void {
  w.bytes(ref.hash).u32(ref.version);
}

function readRef(r: Reader, field: string): NodeRef {
  return { hash: r.bytes(32, field), version: r.u32(field) };
}

function encodeTip(tip: Tip): Uint8Array {
  const w = new Writer(44);
  w.u32(tip.height);
  writeRef(w, tip.root);
  return w.u32(tip.prunedStale).finish();
}

function decodeTip(bytes: Uint8Array): Tip {
  return decodeExact(bytes, 'state tip', (r) => ({
    height: r.u32('tip.height'),
    root: readRef(r, 'tip.root'),
    prunedStale: r.u32('tip.prunedStale'),
  }));
}

function encodeUndo(undo: UndoRecord): Uint8Array {
  const w = new Writer(256);
  writeRef(w, undo.root);
  writeRef(w, undo.prevRoot);
  w.varint(undo.changed.length);
  for (const { key, old } of undo.changed) {
    w.varBytes(key);
    if (old === null) w.u8(0);
    else w.u8(1).varBytes(old);
  }
  w.varint(undo.created.length);
  for (const hash of undo.created) w.bytes(hash);
  w.varint(undo.staled.length);
  for (const node of undo.staled) {
    writeRef(w, node.ref);
    w.varBytes(node.record);
  }
  return w.finish();
}

function decodeUndo(bytes: Uint8Array, height: number): UndoRecord {
  return decodeExact(bytes, `state undo ${height}`, (r) => {
    const root = readRef(r, 'undo.root');
    const prevRoot = readRef(r, 'undo.prevRoot');
    const changed: { key: StateKey; old: Uint8Array | null }[] = [];
    const nChanged = r.varint(MAX_UNDO_ITEMS, 'undo.changed');
    for (let i = 0; i < nChanged; i++) {
      const key = asStateKey(r.varBytes(MAX_STATE_KEY_BYTES, 'undo.key'));
      const flag = r.u8('undo.hadValue');
      if (flag > 1) throw new DecodeError('invalid-value', r.what, { field: 'undo.hadValue' });
      changed.push({ key, old: flag === 1 ? r.varBytes(MAX_STATE_VALUE_BYTES, 'undo.old') : null });
    }
    const created: Uint8Array[] = [];
    const nCreated = r.varint(MAX_UNDO_ITEMS, 'undo.created');
    for (let i = 0; i < nCreated; i++) created.push(r.bytes(32, 'undo.created'));
    const staled: StoredNode[] = [];
    const nStaled = r.varint(MAX_UNDO_ITEMS, 'undo.staled');
    for (let i = 0; i < nStaled; i++) {
      const ref = readRef(r, 'undo.staled');
      staled.push({ ref, record: r.varBytes(MAX_STATE_VALUE_BYTES + 64, 'undo.record') });
    }
    return { root, prevRoot, changed, created, staled };
  });
}
