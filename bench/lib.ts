/**
 * Tiny benchmark harness. Every figure is measured in the same run as its
 * baseline, and suites report ratios, because absolute numbers on a shared
 * 2-core machine drift from run to run while ratios mostly do not.
 */
export interface BenchResult {
  suite: string;
  name: string;
  value: number;
  unit: string;
  /** Ratio against `baselineName` measured in this run, if any. */
  ratio?: number;
  baselineName?: string;
  /** The goal for `ratio` (or `value` when no baseline), and which way is better. */
  goal?: { value: number; better: 'higher' | 'lower' };
}

export interface RateOptions {
  /** Keep calling until at least this long has passed. */
  minMs?: number;
  /** Operations done per call of `fn` (for batched work). */
  opsPerCall?: number;
  warmupCalls?: number;
}

/** Operations per second of `fn`, called repeatedly for at least `minMs`. */
export async function measureRate(fn: () => unknown, options: RateOptions = {}): Promise<number> {
  const { minMs = 1000, opsPerCall = 1, warmupCalls = 3 } = options;
  for (let i = 0; i < warmupCalls; i++) await fn();
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  const minNs = BigInt(minMs) * 1_000_000n;
  while (elapsedNs < minNs) {
    await fn();
    calls++;
    elapsedNs = process.hrtime.bigint() - start;
  }
  return (calls * opsPerCall) / (Number(elapsedNs) / 1e9);
}

/** Wall time of one call in milliseconds. */
export async function timeOnce(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function percentile(sortedAscending: number[], p: number): number {
  if (sortedAscending.length === 0) return Number.NaN;
  const index = Math.min(
    sortedAscending.length - 1,
    Math.ceil((p / 100) * sortedAscending.length) - 1,
  );
  return sortedAscending[Math.max(0, index)]!;
}

export type BenchSuite = () => Promise<BenchResult[]>;
