/**
 * Tiny benchmark harness. Every figure is measured in the same run as its
 * baseline, and suites report ratios, because absolute numbers on a shared
 * 2-core machine drift from run to run while ratios mostly do not.
 */
import { availableParallelism, loadavg } from 'node:os';

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
  /** (max - min) / median over the alternating rounds of `ratio` (or `value`). */
  spread?: number;
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
  const { minMs = QUICK ? 200 : 1000, opsPerCall = 1, warmupCalls = 3 } = options;
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

/** `npm run bench -- --quick`: every suite in a reduced size (CI checks that they still run). */
export const QUICK = process.argv.includes('--quick');

/** `full` normally, `quick` under `--quick`. */
export function size(full: number, quick: number): number {
  return QUICK ? quick : full;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** (max - min) / median: how far the rounds of one figure disagree. */
export function spreadOf(values: readonly number[]): number {
  // One round has no spread: NaN, which run.ts leaves out rather than print 0%.
  if (values.length < 2) return Number.NaN;
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

/**
 * Runs every measurement once per round, in turn, for `rounds` rounds, so a
 * neighbour's burst of CPU hits baseline and subject alike instead of one of
 * them. Each function returns one figure (a rate); the samples come back in
 * round order, so that `pairedRatio` can divide within each round.
 */
export async function alternate<K extends string>(
  rounds: number,
  fns: Record<K, () => Promise<number> | number>,
): Promise<Record<K, number[]>> {
  const names = Object.keys(fns) as K[];
  const out = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  for (let round = 0; round < rounds; round++) {
    // Rotate the order too: the first measurement of a round is not always the same one.
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!;
      out[name].push(await fns[name]());
    }
  }
  return out;
}

/** Per-round ratios subject / baseline: their median and spread are what a suite reports. */
export function pairedRatio(
  subject: readonly number[],
  baseline: readonly number[],
): { ratio: number; spread: number } {
  const ratios = subject.map((s, i) => s / baseline[i]!);
  return { ratio: median(ratios), spread: spreadOf(ratios) };
}

/** The system load averages, printed with every run (the machine is shared). */
export function loadLine(): string {
  const [one, five, fifteen] = loadavg();
  return `load average ${one!.toFixed(2)}, ${five!.toFixed(2)}, ${fifteen!.toFixed(2)} on ${availableParallelism()} cores`;
}
