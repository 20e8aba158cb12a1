/**
 * Fee rates as exact fractions. Comparing fee/size with floats would round
 * (fees reach 2^51) and two nodes could order the same pool differently; cross
 * multiplication in bigint never does.
 */

/** A fee paid for `size` bytes. */
export interface FeeAndSize {
  readonly fee: bigint;
  readonly size: bigint;
}

/** Sign of a.fee/a.size - b.fee/b.size: -1, 0 or 1. Sizes are positive. */
export function compareFeeRate(a: FeeAndSize, b: FeeAndSize): number {
  const left = a.fee * b.size;
  const right = b.fee * a.size;
  return left < right ? -1 : left > right ? 1 : 0;
}

/** The higher of two fee rates (the first on a tie). */
export function maxFeeRate(a: FeeAndSize, b: FeeAndSize): FeeAndSize {
  return compareFeeRate(b, a) > 0 ? b : a;
}

/** Base units per 1000 bytes, rounded down: the unit users and RPC see. */
export function feeRatePerKb(fee: bigint, size: number): bigint {
  return (fee * 1000n) / BigInt(size);
}

/** Whether `fee` for `size` bytes pays at least `ratePerKb` base units per 1000 bytes, exactly. */
export function paysFeeRate(fee: bigint, size: number, ratePerKb: bigint): boolean {
  return fee * 1000n >= ratePerKb * BigInt(size);
}
