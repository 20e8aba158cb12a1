import type { Transaction } from '../primitives/index.ts';
import { type MempoolEntry, minesBefore } from './entry.ts';
import { compareFeeRate } from './feerate.ts';
import { Heap } from './heap.ts';

export interface TemplateLimits {
  /** Bound on the summed size of the chosen transactions (leave room for the coinbase and header). */
  readonly maxBytes: number;
  readonly maxTxs?: number;
}

export interface BlockTemplate {
  /** Every parent before its children. */
  readonly txs: Transaction[];
  readonly fees: bigint;
  readonly bytes: number;
}

/** An entry whose ancestors were partly chosen already, re-scored on what is left. */
interface Modified {
  readonly entry: MempoolEntry;
  readonly fee: bigint;
  /** bigint for exact fee-rate comparison. */
  readonly size: bigint;
  readonly bytes: number;
  readonly count: number;
}

/** Near a full block, give up after this many packages in a row that do not fit (as Bitcoin Core). */
const MAX_CONSECUTIVE_MISSES = 1000;
const NEARLY_FULL_BYTES = 4000;

/**
 * Bitcoin Core's ancestor-package selection: repeatedly take the entry whose
 * package (itself plus its unconfirmed ancestors not yet chosen) pays the
 * highest fee rate, and add the whole package parents first. A cheap parent
 * with a generous child therefore goes in as a pair (CPFP) ahead of a
 * mid-rate loner that beats the parent alone.
 *
 * `miningOrder` is the pool's heap by ancestor-package fee rate (kept up to
 * date on every pool change), copied as an array: adopting it costs O(n)
 * with no comparisons, and only what is popped is paid in O(log n). An entry
 * whose ancestor got chosen is re-scored into a second, small heap of
 * "modified" packages; its stale copy in the first heap is skipped. Total:
 * O(n + (k + m) log n) for k entries examined and m re-scored, instead of
 * sorting the whole pool for every block.
 */
export function buildTemplate(miningOrder: MempoolEntry[], limits: TemplateLimits): BlockTemplate {
  const maxTxs = limits.maxTxs ?? Number.POSITIVE_INFINITY;
  const pool = new Heap<MempoolEntry>(minesBefore, undefined, miningOrder);
  const modified = new Map<MempoolEntry, Modified>();
  const modifiedOrder = new Heap<Modified>((a, b) => {
    const c = compareFeeRate(a, b);
    return c !== 0 ? c > 0 : a.entry.sequence < b.entry.sequence;
  });
  const chosen = new Set<MempoolEntry>();
  /** Popped without fitting; tried again only if re-scored after an ancestor is chosen. */
  const skipped = new Set<MempoolEntry>();

  const txs: Transaction[] = [];
  let fees = 0n;
  let bytes = 0;
  let misses = 0;
  while (txs.length < maxTxs) {
    // Drop stale tops: chosen already, or superseded by a re-scored package.
    while (pool.size > 0) {
      const top = pool.peek()!;
      if (!chosen.has(top) && !modified.has(top) && !skipped.has(top)) break;
      pool.pop();
    }
    while (modifiedOrder.size > 0) {
      const top = modifiedOrder.peek()!;
      if (!chosen.has(top.entry) && modified.get(top.entry) === top) break;
      modifiedOrder.pop();
    }
    const fromPool = pool.peek();
    const fromModified = modifiedOrder.peek();
    let candidate: Modified;
    if (fromPool === undefined && fromModified === undefined) break;
    if (
      fromModified === undefined ||
      (fromPool !== undefined && poolFirst(fromPool, fromModified))
    ) {
      const entry = pool.pop()!;
      candidate = {
        entry,
        fee: entry.ancestorFees,
        size: entry.miningScore.size,
        bytes: entry.ancestorSize,
        count: entry.ancestorCount,
      };
    } else {
      candidate = modifiedOrder.pop()!;
      modified.delete(candidate.entry);
    }

    if (bytes + candidate.bytes > limits.maxBytes || txs.length + candidate.count > maxTxs) {
      skipped.add(candidate.entry);
      if (++misses > MAX_CONSECUTIVE_MISSES && bytes > limits.maxBytes - NEARLY_FULL_BYTES) break;
      continue;
    }
    misses = 0;

    const members = [...pendingPackage(candidate.entry, chosen)].sort(
      (a, b) => a.sequence - b.sequence,
    );
    for (const member of members) {
      chosen.add(member);
      txs.push(member.tx);
      fees += member.fee;
      bytes += member.size;
    }
    const affected = new Set<MempoolEntry>();
    for (const member of members) collectPendingDescendants(member, chosen, affected);
    for (const descendant of affected) {
      skipped.delete(descendant);
      const rescored = score(descendant, chosen);
      modified.set(descendant, rescored);
      modifiedOrder.push(rescored);
    }
  }
  return { txs, fees, bytes };
}

function poolFirst(entry: MempoolEntry, other: Modified): boolean {
  const c = compareFeeRate(entry.miningScore, other);
  return c !== 0 ? c > 0 : entry.sequence < other.entry.sequence;
}

function score(entry: MempoolEntry, chosen: ReadonlySet<MempoolEntry>): Modified {
  let fee = 0n;
  let bytes = 0;
  let count = 0;
  for (const member of pendingPackage(entry, chosen)) {
    fee += member.fee;
    bytes += member.size;
    count++;
  }
  return { entry, fee, size: BigInt(bytes), bytes, count };
}

/** `entry` and its ancestors that are not in `chosen`. */
function pendingPackage(entry: MempoolEntry, chosen: ReadonlySet<MempoolEntry>): Set<MempoolEntry> {
  const members = new Set<MempoolEntry>([entry]);
  const stack = [entry];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    for (const parent of next.parents) {
      if (chosen.has(parent) || members.has(parent)) continue;
      members.add(parent);
      stack.push(parent);
    }
  }
  return members;
}

function collectPendingDescendants(
  entry: MempoolEntry,
  chosen: ReadonlySet<MempoolEntry>,
  out: Set<MempoolEntry>,
): void {
  const stack = [entry];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    for (const child of next.children) {
      if (chosen.has(child) || out.has(child)) continue;
      out.add(child);
      stack.push(child);
    }
  }
}
