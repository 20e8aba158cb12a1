import type { Transaction } from '../primitives/index.ts';
import { compareFeeRate, type FeeAndSize, feeRatePerKb, maxFeeRate } from './feerate.ts';

/** What callers (RPC, p2p, the node) may read about a pool entry. */
export interface MempoolEntryView {
  readonly tx: Transaction;
  readonly txid: Uint8Array;
  readonly fee: bigint;
  /**
   * Encoded bytes, witnesses included; for a contract transaction, at least
   * its reserved gas counted as block bytes (mempool/contract-admission.ts).
   */
  readonly size: number;
  /** Base units per 1000 bytes, rounded down (for display; ordering uses exact fractions). */
  readonly feeRate: bigint;
  /** When it entered the pool (ms since the epoch), kept across restarts. */
  readonly time: number;
  /** Unconfirmed descendants, itself included, with their summed sizes and fees. */
  readonly descendantCount: number;
  readonly descendantSize: number;
  readonly descendantFees: bigint;
  /** Unconfirmed ancestors, itself included: the package a miner must take to take it. */
  readonly ancestorCount: number;
  readonly ancestorSize: number;
  readonly ancestorFees: bigint;
  readonly parents: ReadonlySet<MempoolEntryView>;
  readonly children: ReadonlySet<MempoolEntryView>;
}

/**
 * One pool transaction with its links. Parents and children are direct
 * (one level). The descendant totals are kept up to date on every insert and
 * removal by walking the ancestors (bounded by the ancestor limit); the
 * ancestor totals are fixed at insert and change only when a block confirms
 * an ancestor, by walking the descendants (bounded by the descendant limit).
 */
export class MempoolEntry implements MempoolEntryView {
  readonly tx: Transaction;
  readonly txid: Uint8Array;
  readonly key: string;
  /** bytesKey(outpointKey) of each input: the entry's keys in the spent-outpoint index. */
  readonly inputKeys: readonly string[];
  readonly fee: bigint;
  readonly size: number;
  readonly time: number;
  /** Insertion order: a parent always has a lower sequence than its children. */
  readonly sequence: number;
  readonly own: FeeAndSize;
  readonly parents = new Set<MempoolEntry>();
  readonly children = new Set<MempoolEntry>();
  descendantCount = 1;
  descendantSize: number;
  descendantFees: bigint;
  /** max(own fee rate, descendant-package fee rate): what eviction sorts by. */
  evictionScore: FeeAndSize;
  /** Slot in the pool's eviction heap; -1 when not in it. */
  heapIndex = -1;
  ancestorCount = 1;
  ancestorSize: number;
  ancestorFees: bigint;
  /** The ancestor package's fee rate: what block templates sort by. */
  miningScore: FeeAndSize;
  /** Slot in the pool's mining-order heap; -1 when not in it. */
  miningIndex = -1;

  constructor(fields: {
    tx: Transaction;
    key: string;
    inputKeys: readonly string[];
    fee: bigint;
    /** What the pool counts (default: the encoded bytes); contract gas weighs in (virtualSize). */
    size?: number;
    time: number;
    sequence: number;
  }) {
    this.tx = fields.tx;
    this.txid = fields.tx.txid;
    this.key = fields.key;
    this.inputKeys = fields.inputKeys;
    this.fee = fields.fee;
    this.size = fields.size ?? fields.tx.size;
    this.time = fields.time;
    this.sequence = fields.sequence;
    this.own = { fee: this.fee, size: BigInt(this.size) };
    this.descendantSize = this.size;
    this.descendantFees = this.fee;
    this.evictionScore = this.own;
    this.ancestorSize = this.size;
    this.ancestorFees = this.fee;
    this.miningScore = this.own;
  }

  get feeRate(): bigint {
    return feeRatePerKb(this.fee, this.size);
  }

  /** Adds (sign 1) or removes (sign -1) one descendant's own size and fee. */
  adjustDescendants(sign: 1 | -1, size: number, fee: bigint): void {
    this.setDescendants(
      this.descendantCount + sign,
      this.descendantSize + sign * size,
      sign === 1 ? this.descendantFees + fee : this.descendantFees - fee,
    );
  }

  setDescendants(count: number, size: number, fees: bigint): void {
    this.descendantCount = count;
    this.descendantSize = size;
    this.descendantFees = fees;
    // A parent is not evicted before its children if they pay for it (CPFP),
    // and a parent is never scored below its own rate by cheap children.
    this.evictionScore = maxFeeRate(this.own, {
      fee: this.descendantFees,
      size: BigInt(this.descendantSize),
    });
  }

  setAncestors(count: number, size: number, fees: bigint): void {
    this.ancestorCount = count;
    this.ancestorSize = size;
    this.ancestorFees = fees;
    this.miningScore = { fee: fees, size: BigInt(size) };
  }
}

/** Mining order: highest ancestor-package fee rate first; on a tie the older entry. */
export function minesBefore(a: MempoolEntry, b: MempoolEntry): boolean {
  const c = compareFeeRate(a.miningScore, b.miningScore);
  return c !== 0 ? c > 0 : a.sequence < b.sequence;
}

/**
 * Eviction order: lowest score first; on a tie the newer entry goes first, so
 * long-waiting transactions are not pushed out by equal-paying newcomers.
 */
export function evictsBefore(a: MempoolEntry, b: MempoolEntry): boolean {
  const c = compareFeeRate(a.evictionScore, b.evictionScore);
  return c !== 0 ? c < 0 : a.sequence > b.sequence;
}
