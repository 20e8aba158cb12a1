import { outpointKey } from '../primitives/index.ts';
import { bytesKey, toHex } from '../util/index.ts';
import { evictsBefore, type MempoolEntry, minesBefore } from './entry.ts';
import { Heap } from './heap.ts';

/**
 * The transaction graph of the mempool: txid -> entry, spent outpoint ->
 * spending entry, parent/child links, the eviction and mining heaps, and the
 * ancestor/descendant package totals behind them, kept in step by `insert`
 * and the removals. No policy here: what may enter is decided by the mempool
 * (policy.ts), which then calls these.
 */
export class TxGraph {
  readonly byTxid = new Map<string, MempoolEntry>();
  readonly bySpent = new Map<string, MempoolEntry>();
  readonly evictionOrder = new Heap<MempoolEntry>(evictsBefore, (entry, index) => {
    entry.heapIndex = index;
  });
  readonly miningOrder = new Heap<MempoolEntry>(minesBefore, (entry, index) => {
    entry.miningIndex = index;
  });
  totalBytes = 0;
  /** Bumped on every change, so an admission that awaited can tell whether its plan went stale. */
  generation = 0;

  /** Adds `entry` below `parents`, updating every ancestor's package totals and both heaps. */
  insert(entry: MempoolEntry, parents: ReadonlySet<MempoolEntry>): void {
    this.byTxid.set(entry.key, entry);
    for (const opKey of entry.inputKeys) this.bySpent.set(opKey, entry);
    for (const parent of parents) {
      entry.parents.add(parent);
      parent.children.add(entry);
    }
    let ancestorSize = entry.size;
    let ancestorFees = entry.fee;
    const ancestors = this.ancestorsOf(parents);
    for (const ancestor of ancestors) {
      ancestor.adjustDescendants(1, entry.size, entry.fee);
      this.evictionOrder.update(ancestor.heapIndex);
      ancestorSize += ancestor.size;
      ancestorFees += ancestor.fee;
    }
    entry.setAncestors(ancestors.size + 1, ancestorSize, ancestorFees);
    this.evictionOrder.push(entry);
    this.miningOrder.push(entry);
    this.totalBytes += entry.size;
    this.generation++;
  }

  /**
   * Removes a set closed under descendants, children before parents so that
   * each removal subtracts exactly itself from every ancestor still present.
   * Returns the removed entries.
   */
  removeWithDescendants(set: ReadonlySet<MempoolEntry>): MempoolEntry[] {
    const ordered = [...set].sort((a, b) => b.sequence - a.sequence);
    for (const entry of ordered) {
      for (const ancestor of this.ancestorsOf(entry.parents)) {
        ancestor.adjustDescendants(-1, entry.size, entry.fee);
        this.evictionOrder.update(ancestor.heapIndex);
      }
      this.unlink(entry);
    }
    return ordered;
  }

  /**
   * Removes one entry (confirmed by a block) and leaves its children, whose
   * inputs are now confirmed coins. Any ancestor still here (only when the
   * block confirmed a child without its pool parent) is re-totalled.
   */
  removeKeepingDescendants(entry: MempoolEntry): void {
    const ancestors = this.ancestorsOf(entry.parents);
    const descendants = this.withDescendants(entry.children);
    this.unlink(entry);
    // Each descendant counted `entry` once among its ancestors; it is confirmed now.
    for (const descendant of descendants) {
      descendant.setAncestors(
        descendant.ancestorCount - 1,
        descendant.ancestorSize - entry.size,
        descendant.ancestorFees - entry.fee,
      );
      this.miningOrder.update(descendant.miningIndex);
    }
    for (const ancestor of ancestors) {
      let count = 0;
      let size = 0;
      let fees = 0n;
      for (const member of this.withDescendants([ancestor])) {
        count++;
        size += member.size;
        fees += member.fee;
      }
      ancestor.setDescendants(count, size, fees);
      this.evictionOrder.update(ancestor.heapIndex);
    }
  }

  unlink(entry: MempoolEntry): void {
    for (const parent of entry.parents) parent.children.delete(entry);
    for (const child of entry.children) child.parents.delete(entry);
    entry.parents.clear();
    entry.children.clear();
    for (const opKey of entry.inputKeys) {
      if (this.bySpent.get(opKey) === entry) this.bySpent.delete(opKey);
    }
    this.byTxid.delete(entry.key);
    this.evictionOrder.removeAt(entry.heapIndex);
    this.miningOrder.removeAt(entry.miningIndex);
    this.totalBytes -= entry.size;
    this.generation++;
  }

  /** All pool ancestors reachable from `parents` (inclusive); stops once more than `limit` are found. */
  ancestorsOf(
    parents: Iterable<MempoolEntry>,
    limit = Number.POSITIVE_INFINITY,
  ): Set<MempoolEntry> {
    const found = new Set<MempoolEntry>();
    const stack = [...parents];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (found.has(next)) continue;
      found.add(next);
      if (found.size > limit) break;
      for (const parent of next.parents) if (!found.has(parent)) stack.push(parent);
    }
    return found;
  }

  /** `roots` and all their pool descendants; stops once more than `limit` are found. */
  withDescendants(
    roots: Iterable<MempoolEntry>,
    limit = Number.POSITIVE_INFINITY,
  ): Set<MempoolEntry> {
    const found = new Set<MempoolEntry>();
    const stack = [...roots];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (found.has(next)) continue;
      found.add(next);
      if (found.size > limit) break;
      for (const child of next.children) if (!found.has(child)) stack.push(child);
    }
    return found;
  }

  /**
   * Recomputes every index from the entries and throws on the first
   * disagreement. O(n * (A + D)); for tests and a debug RPC, not the hot path.
   */
  checkConsistency(): void {
    const fail = (what: string): never => {
      throw new Error(`mempool inconsistent: ${what}`);
    };
    let bytes = 0;
    let spends = 0;
    for (const [key, entry] of this.byTxid) {
      if (key !== entry.key || key !== bytesKey(entry.tx.txid)) fail('txid index');
      bytes += entry.size;
      const expectedParents = new Set<MempoolEntry>();
      for (const { prevout } of entry.tx.inputs) {
        spends++;
        if (this.bySpent.get(bytesKey(outpointKey(prevout))) !== entry)
          fail('spent-outpoint index');
        const parent = this.byTxid.get(bytesKey(prevout.txid));
        if (parent !== undefined) expectedParents.add(parent);
      }
      if (expectedParents.size !== entry.parents.size) fail('parent links');
      for (const parent of entry.parents) {
        if (!expectedParents.has(parent) || !parent.children.has(entry)) fail('parent links');
      }
      for (const child of entry.children) {
        if (!child.parents.has(entry) || this.byTxid.get(child.key) !== child) fail('child links');
      }
      let count = 0;
      let size = 0;
      let fees = 0n;
      for (const member of this.withDescendants([entry])) {
        count++;
        size += member.size;
        fees += member.fee;
      }
      if (
        count !== entry.descendantCount ||
        size !== entry.descendantSize ||
        fees !== entry.descendantFees
      ) {
        fail(`descendant totals of ${toHex(entry.txid)}`);
      }
      if (
        this.evictionOrder.at(entry.heapIndex) !== entry ||
        this.miningOrder.at(entry.miningIndex) !== entry
      ) {
        fail('heap slots');
      }
      count = 0;
      size = 0;
      fees = 0n;
      for (const member of this.ancestorsOf([entry])) {
        count++;
        size += member.size;
        fees += member.fee;
      }
      if (
        count !== entry.ancestorCount ||
        size !== entry.ancestorSize ||
        fees !== entry.ancestorFees
      ) {
        fail(`ancestor totals of ${toHex(entry.txid)}`);
      }
    }
    if (spends !== this.bySpent.size) fail('spent-outpoint index has extra keys');
    if (bytes !== this.totalBytes) fail(`bytes ${this.totalBytes} != ${bytes}`);
    if (this.evictionOrder.size !== this.byTxid.size) fail('eviction heap size');
    if (this.miningOrder.size !== this.byTxid.size) fail('mining heap size');
    if (!this.evictionOrder.isOrdered() || !this.miningOrder.isOrdered()) fail('heap order');
  }
}
