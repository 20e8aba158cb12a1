/**
 * Mempool policy, apart from the graph it reads: full replace-by-fee under
 * Bitcoin Core's anti-DoS rules, ancestor/descendant package limits, and the
 * fee floor that rises when the pool overflows and decays afterwards.
 */

import { toHex } from '../util/index.ts';
import type { MempoolEntry } from './entry.ts';
import { MempoolError } from './errors.ts';
import { compareFeeRate, type FeeAndSize, paysFeeRate } from './feerate.ts';
import type { TxGraph } from './graph.ts';
import type { ResolvedMempoolOptions } from './options.ts';

const FLOOR_HALF_LIFE_MS = 12 * 60 * 60 * 1000;

/**
 * Full replace-by-fee (any transaction may be replaced, no opt-in signal),
 * under Bitcoin Core's anti-DoS rules. Returns what the replacement evicts.
 */
export function checkReplacement(
  graph: TxGraph,
  opts: ResolvedMempoolOptions,
  fee: bigint,
  size: number,
  parents: ReadonlySet<MempoolEntry>,
  conflicts: ReadonlySet<MempoolEntry>,
): Set<MempoolEntry> {
  const max = opts.maxReplacements;
  const evict = graph.withDescendants(conflicts, max);
  if (evict.size > max) {
    throw new MempoolError(
      'MEMPOOL_TOO_MANY_REPLACEMENTS',
      `would evict more than ${max} transactions`,
    );
  }
  const conflictParents = new Set<MempoolEntry>();
  for (const conflict of conflicts) for (const p of conflict.parents) conflictParents.add(p);
  for (const parent of parents) {
    if (evict.has(parent)) {
      throw new MempoolError(
        'MEMPOOL_REPLACEMENT_REJECTED',
        'spends an output of a transaction it replaces',
      );
    }
    // Otherwise a cheap new ancestor could make the replacement a worse
    // block candidate than what it evicts despite its own higher rate.
    if (!conflictParents.has(parent)) {
      throw new MempoolError(
        'MEMPOOL_REPLACEMENT_REJECTED',
        'adds an unconfirmed input the replaced transactions did not spend',
      );
    }
  }
  const own: FeeAndSize = { fee, size: BigInt(size) };
  for (const conflict of conflicts) {
    if (compareFeeRate(own, conflict.own) <= 0) {
      throw new MempoolError(
        'MEMPOOL_REPLACEMENT_REJECTED',
        `fee rate not above that of ${toHex(conflict.txid)}`,
      );
    }
  }
  let evictedFees = 0n;
  for (const entry of evict) evictedFees += entry.fee;
  // Strictly more than everything evicted, and the difference pays the
  // relay of the replacement itself: otherwise replacing costs nothing and
  // one can make the network relay the same coins forever.
  if (fee <= evictedFees || !paysFeeRate(fee - evictedFees, size, opts.minRelayFeeRate)) {
    throw new MempoolError(
      'MEMPOOL_REPLACEMENT_REJECTED',
      `fee ${fee} must exceed the ${evictedFees} it evicts by the relay fee for ${size} bytes`,
    );
  }
  return evict;
}

/** Ancestor and descendant limits as they will be once `evict` is gone. */
export function checkPackageLimits(
  graph: TxGraph,
  opts: ResolvedMempoolOptions,
  parents: ReadonlySet<MempoolEntry>,
  evict: ReadonlySet<MempoolEntry>,
): void {
  const ancestors = graph.ancestorsOf(parents, opts.maxAncestors);
  if (ancestors.size + 1 > opts.maxAncestors) {
    throw new MempoolError(
      'MEMPOOL_TOO_MANY_ANCESTORS',
      `more than ${opts.maxAncestors - 1} unconfirmed ancestors`,
    );
  }
  const leaving = new Map<MempoolEntry, number>();
  for (const gone of evict) {
    for (const ancestor of graph.ancestorsOf(gone.parents)) {
      if (!evict.has(ancestor)) leaving.set(ancestor, (leaving.get(ancestor) ?? 0) + 1);
    }
  }
  for (const ancestor of ancestors) {
    const count = ancestor.descendantCount - (leaving.get(ancestor) ?? 0) + 1;
    if (count > opts.maxDescendants) {
      throw new MempoolError(
        'MEMPOOL_TOO_MANY_DESCENDANTS',
        `${toHex(ancestor.txid)} would have more than ${opts.maxDescendants} descendants`,
      );
    }
  }
}

/** The overflow fee floor: raised by evictions so that what just left cannot come straight back. */
export class FeeFloor {
  private readonly opts: ResolvedMempoolOptions;
  private rate = 0n;
  private since = 0;

  constructor(opts: ResolvedMempoolOptions) {
    this.opts = opts;
  }

  raise(rate: bigint, now: number): void {
    this.rate = rate;
    this.since = now;
  }

  /**
   * The floor halves every 12 hours (faster while the pool is mostly empty,
   * as in Bitcoin Core), so fees come back down once pressure is gone.
   */
  current(now: number, totalBytes: number): bigint {
    if (this.rate === 0n) return 0n;
    let halfLife = FLOOR_HALF_LIFE_MS;
    if (totalBytes < this.opts.maxBytes / 4) halfLife /= 4;
    else if (totalBytes < this.opts.maxBytes / 2) halfLife /= 2;
    const halvings = Math.floor((now - this.since) / halfLife);
    if (halvings > 0) {
      this.rate = halvings >= 64 ? 0n : this.rate >> BigInt(halvings);
      this.since += halvings * halfLife;
      if (this.rate < this.opts.minRelayFeeRate / 2n) this.rate = 0n;
    }
    return this.rate;
  }
}
