import type { Transaction } from '../primitives/index.ts';
import { outpointKey } from '../primitives/index.ts';
import { bytesKey } from '../util/index.ts';

export interface OrphanLimits {
  readonly maxOrphans: number;
  readonly maxOrphanBytes: number;
  readonly orphanExpiryMs: number;
}

interface Orphan {
  readonly tx: Transaction;
  readonly key: string;
  readonly size: number;
  readonly time: number;
  /** bytesKey of each txid this orphan spends that was unknown when it arrived. */
  readonly missingParents: readonly string[];
}

/**
 * Transactions whose inputs are not known yet, held briefly in case the
 * parents arrive (they often do, out of order over gossip). Everything here is
 * unverified and free to send, so the pool is bounded in count and bytes and
 * its members expire; when full, the oldest goes first (a Map iterates in
 * insertion order, so that is O(1)). Indexed by missing parent txid so that an
 * accepted parent finds its waiting children in O(1).
 */
export class OrphanPool {
  private readonly limits: OrphanLimits;
  private readonly byTxid = new Map<string, Orphan>();
  private readonly byParent = new Map<string, Set<string>>();
  private totalBytes = 0;

  constructor(limits: OrphanLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.byTxid.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  has(key: string): boolean {
    return this.byTxid.has(key);
  }

  /** Adds an orphan and returns how many older ones were evicted to make room. */
  add(tx: Transaction, key: string, missingParents: readonly string[], time: number): number {
    if (this.byTxid.has(key)) return 0;
    const orphan: Orphan = { tx, key, size: tx.size, time, missingParents };
    this.byTxid.set(key, orphan);
    this.totalBytes += orphan.size;
    for (const parent of missingParents) {
      let waiting = this.byParent.get(parent);
      if (waiting === undefined) {
        waiting = new Set();
        this.byParent.set(parent, waiting);
      }
      waiting.add(key);
    }
    let evicted = 0;
    while (
      this.byTxid.size > this.limits.maxOrphans ||
      this.totalBytes > this.limits.maxOrphanBytes
    ) {
      const oldest = this.byTxid.keys().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
      evicted++;
    }
    return evicted;
  }

  remove(key: string): Transaction | undefined {
    const orphan = this.byTxid.get(key);
    if (orphan === undefined) return undefined;
    this.byTxid.delete(key);
    this.totalBytes -= orphan.size;
    for (const parent of orphan.missingParents) {
      const waiting = this.byParent.get(parent);
      if (waiting === undefined) continue;
      waiting.delete(key);
      if (waiting.size === 0) this.byParent.delete(parent);
    }
    return orphan.tx;
  }

  /** Removes and returns the orphans waiting for `parentKey`, oldest first, with their arrival time. */
  takeChildrenOf(parentKey: string): Array<{ tx: Transaction; time: number }> {
    const waiting = this.byParent.get(parentKey);
    if (waiting === undefined) return [];
    const out: Array<{ tx: Transaction; time: number }> = [];
    for (const key of [...waiting]) {
      const orphan = this.byTxid.get(key);
      if (orphan === undefined) continue;
      this.remove(key);
      out.push({ tx: orphan.tx, time: orphan.time });
    }
    return out;
  }

  /** Drops orphans older than the expiry; returns how many. */
  expire(now: number): number {
    const cutoff = now - this.limits.orphanExpiryMs;
    let expired = 0;
    for (const orphan of [...this.byTxid.values()]) {
      if (orphan.time < cutoff) {
        this.remove(orphan.key);
        expired++;
      }
    }
    return expired;
  }

  /**
   * Drops orphans that spend any of `spent` (outpoint keys a block just spent):
   * they can never become valid. O(orphans x inputs), and orphans are few.
   */
  removeSpending(spent: ReadonlySet<string>): number {
    let removed = 0;
    for (const orphan of [...this.byTxid.values()]) {
      if (orphan.tx.inputs.some((input) => spent.has(bytesKey(outpointKey(input.prevout))))) {
        this.remove(orphan.key);
        removed++;
      }
    }
    return removed;
  }

  clear(): void {
    this.byTxid.clear();
    this.byParent.clear();
    this.totalBytes = 0;
  }

  /** Internal consistency, for tests: every index entry points at a live orphan and bytes add up. */
  checkIndexes(): void {
    let bytes = 0;
    for (const orphan of this.byTxid.values()) {
      bytes += orphan.size;
      for (const parent of orphan.missingParents) {
        if (this.byParent.get(parent)?.has(orphan.key) !== true) {
          throw new Error('orphan missing from its parent index');
        }
      }
    }
    for (const waiting of this.byParent.values()) {
      for (const key of waiting) {
        if (!this.byTxid.has(key)) throw new Error('parent index names a removed orphan');
      }
    }
    if (bytes !== this.totalBytes) throw new Error(`orphan bytes ${this.totalBytes} != ${bytes}`);
  }
}
