import { MempoolOptionsError } from './errors.ts';

/** Every field is optional; see DEFAULT_MEMPOOL_OPTIONS for what an absent one means. */
export interface MempoolOptions {
  /**
   * Bound on the sum of encoded transaction sizes. The JS heap holds several
   * times this (objects, indexes), so size it well below the memory limit.
   */
  maxBytes?: number;
  /** Base units per 1000 bytes a transaction must pay to be admitted or relayed. */
  minRelayFeeRate?: bigint;
  /** Larger transactions are valid in a block but not relayed (kept for direct block inclusion). */
  maxStandardTxBytes?: number;
  /** Bound on a transaction's unconfirmed ancestors, itself included. */
  maxAncestors?: number;
  /** Bound on any entry's unconfirmed descendants, itself included. */
  maxDescendants?: number;
  /** A replacement may evict at most this many transactions (conflicts plus their descendants). */
  maxReplacements?: number;
  maxOrphans?: number;
  /**
   * Orphans one sender (API client by token subject or address, or peer) may
   * hold; past it the sender's own oldest orphan makes room.
   */
  maxOrphansPerSource?: number;
  /** Bound on the sum of orphan sizes. */
  maxOrphanBytes?: number;
  /** Larger orphans are dropped at once; the sender can relay them again once the parent is known. */
  maxOrphanTxBytes?: number;
  /** An orphan whose parents have not shown up in this long is dropped. */
  orphanExpiryMs?: number;
  /** An entry not mined in this long is dropped together with its descendants. */
  expiryMs?: number;
}

export type ResolvedMempoolOptions = Required<MempoolOptions>;

export const DEFAULT_MEMPOOL_OPTIONS: ResolvedMempoolOptions = {
  maxBytes: 64 * 1024 * 1024,
  // 1 base unit per byte, as Bitcoin Core's 1 sat/vB.
  minRelayFeeRate: 1000n,
  maxStandardTxBytes: 100_000,
  maxAncestors: 25,
  maxDescendants: 25,
  maxReplacements: 100,
  maxOrphans: 100,
  maxOrphansPerSource: 10,
  maxOrphanBytes: 4 * 1024 * 1024,
  maxOrphanTxBytes: 100_000,
  orphanExpiryMs: 20 * 60 * 1000,
  expiryMs: 14 * 24 * 60 * 60 * 1000,
};

export function resolveMempoolOptions(opts: MempoolOptions): ResolvedMempoolOptions {
  const resolved: ResolvedMempoolOptions = { ...DEFAULT_MEMPOOL_OPTIONS };
  for (const [name, value] of Object.entries(opts) as Array<[keyof MempoolOptions, unknown]>) {
    if (value === undefined) continue;
    if (!(name in DEFAULT_MEMPOOL_OPTIONS)) throw new MempoolOptionsError(name, 'unknown option');
    if (name === 'minRelayFeeRate') {
      if (typeof value !== 'bigint' || value < 0n) throw new MempoolOptionsError(name, value);
      resolved.minRelayFeeRate = value;
      continue;
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new MempoolOptionsError(name, value);
    }
    resolved[name] = value;
  }
  return resolved;
}
