import type { Transaction } from '../primitives/index.ts';
import { outpointKey } from '../primitives/index.ts';
import { bytesKey } from '../util/index.ts';

export interface OrphanLimits {
  readonly maxOrphans: number;
  /** Orphans one sender (an API client or a peer) may hold; its own oldest makes room. */
  readonly maxOrphansPerSource: number;
  readonly maxOrphanBytes: number;
  readonly orphanExpiryMs: number;
}

interface Orphan {
  readonly tx: Transaction;
  readonly key: string;
  readonly size: number;
  readonly time: number;
  /** Who sent it (`api:sub:...`, `api:ip:...`, `peer:...`): limits are per sender. */
  readonly source: string;
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
 *
 * Free to send means one client could fill the pool and push everyone else's
 * orphans out, so each sender holds at most `maxOrphansPerSource` (its own
 * oldest goes to make room), and when the whole pool is full the sender
 * holding the most loses its oldest: a spammer only ever evicts itself while
 * it holds more than an honest sender.
 */
export class OrphanPool {
  private readonly limits: OrphanLimits;
  private readonly byTxid = new Map<string, Orphan>();
  private readonly byParent = new Map<string, Set<string>>();
  /** Orphan keys per sender, oldest first (a Set iterates in insertion order). */
  private readonly bySource = new Map<string, Set<string>>();
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

  /** Senders holding at least one orphan. */
  get sources(): number {
    return this.bySource.size;
  }

  has(key: string): boolean {
    return this.byTxid.has(key);
  }

  /**
   * Adds an orphan from `source`; returns how many orphans left to make room:
   * `sourceLimited` of the sender's own (it held its share), `evicted` from the
   * sender holding the most (the pool was full).
   */
  add(
    tx: Transaction,
    key: string,
    missingParents: readonly string[],
    time: number,
    source: string,
  ): { sourceLimited: number; evicted: number } {
    if (this.byTxid.has(key)) return { sourceLimited: 0, evicted: 0 };
    let sourceLimited = 0;
    let own = this.bySource.get(source);
    while (own !== undefined && own.size >= this.limits.maxOrphansPerSource) {
      const oldest = own.values().next();
      if (oldest.done === true) break;
      this.remove(oldest.value);
      sourceLimited++;
      own = this.bySource.get(source);
    }
    const orphan: Orphan = { tx, key, size: tx.size, time, source, missingParents };
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
    own ??= new Set();
    own.add(key);
    // Re-inserted so that the map runs from the least to the most recently active sender.
    this.bySource.delete(source);
    this.bySource.set(source, own);
    let evicted = 0;
    while (
      this.byTxid.size > this.limits.maxOrphans ||
      this.totalBytes > this.limits.maxOrphanBytes
    ) {
      const victim = this.oldestOfLargestSource();
      if (victim === undefined) break;
      this.remove(victim);
      evicted++;
    }
    return { sourceLimited, evicted };
  }

  /**
   * The oldest orphan of the sender holding the most; among equals, of the one
   * that added last (so when every sender holds one, a newcomer does not push
   * out an orphan that was there first: locking newcomers out then takes as
   * many identities as the pool has room). O(senders) <= O(maxOrphans).
   */
  private oldestOfLargestSource(): string | undefined {
    let largest: Set<string> | undefined;
    for (const keys of this.bySource.values()) {
      if (largest === undefined || keys.size >= largest.size) largest = keys;
    }
    return largest?.values().next().value;
  }

  remove(key: string): Transaction | undefined {
    const orphan = this.byTxid.get(key);
    if (orphan === undefined) return undefined;
    this.byTxid.delete(key);
    this.totalBytes -= orphan.size;
    const own = this.bySource.get(orphan.source);
    own?.delete(key);
    if (own?.size === 0) this.bySource.delete(orphan.source);
    for (const parent of orphan.missingParents) {
      const waiting = this.byParent.get(parent);
      if (waiting === undefined) continue;
      waiting.delete(key);
      if (waiting.size === 0) this.byParent.delete(parent);
    }
    return orphan.tx;
  }

  /** Removes and returns the orphans waiting for `parentKey`, oldest first, with arrival time and sender. */
  takeChildrenOf(parentKey: string): Array<{ tx: Transaction; time: number; source: string }> {
    const waiting = this.byParent.get(parentKey);
    if (waiting === undefined) return [];
    const out: Array<{ tx: Transaction; time: number; source: string }> = [];
    for (const key of [...waiting]) {
      const orphan = this.byTxid.get(key);
      if (orphan === undefined) continue;
      this.remove(key);
      out.push({ tx: orphan.tx, time: orphan.time, source: orphan.source });
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
    this.bySource.clear();
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
    let bySource = 0;
    for (const [source, keys] of this.bySource) {
      if (keys.size === 0) throw new Error('empty sender entry kept');
      for (const key of keys) {
        if (this.byTxid.get(key)?.source !== source) throw new Error('sender index is stale');
      }
      bySource += keys.size;
    }
    if (bySource !== this.byTxid.size) throw new Error('an orphan is missing from its sender');
    if (bytes !== this.totalBytes) throw new Error(`orphan bytes ${this.totalBytes} != ${bytes}`);
  }
}
