/**
 * `npm run fuzz -- TARGET|all [--runs N | --seconds S] [--seed N]`: mutates
 * valid encodings (bit flips, byte edits, truncation, extension, splices)
 * and feeds random bytes to each decoder. An input must be rejected with a
 * typed UtxodError or re-encode to the same bytes; anything else (an untyped
 * throw, a mismatch, a decode slower than 1 s or growing the heap by more
 * than 64 MiB) is a crash: the input is saved under test/fuzz/regressions/
 * and replayed by test/fuzz/regressions.test.ts from then on.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { UtxodError } from '../../src/util/errors.ts';
import { type FuzzTarget, TARGETS } from './targets.ts';

export const REGRESSIONS_DIR = new URL('./regressions/', import.meta.url);
const SLOW_MS = 1000;
const HEAP_BOUND = 64 * 1024 * 1024;

/** What a decoder did with one input: null when it behaved. */
export function check(target: FuzzTarget, bytes: Uint8Array): string | null {
  const heap = process.memoryUsage().heapUsed;
  const started = performance.now();
  let value: unknown;
  try {
    value = target.decode(bytes);
  } catch (error) {
    if (error instanceof UtxodError) return null;
    return `untyped throw: ${String(error)}`;
  }
  const ms = performance.now() - started;
  if (ms > SLOW_MS) return `decode took ${ms.toFixed(0)} ms`;
  if (process.memoryUsage().heapUsed - heap > HEAP_BOUND) return 'decode grew the heap past 64 MiB';
  let again: Uint8Array;
  try {
    again = target.encode(value);
  } catch (error) {
    return `accepted input does not re-encode: ${String(error)}`;
  }
  if (target.sameValue === true) {
    try {
      assert.deepStrictEqual(target.decode(again), value);
    } catch (error) {
      return `accepted input re-encodes to another value: ${String(error)}`;
    }
    return null;
  }
  if (Buffer.compare(Buffer.from(again), Buffer.from(bytes)) !== 0)
    return 'accepted input re-encodes to other bytes';
  return null;
}

const mutation = (
  valid: fc.Arbitrary<Uint8Array>,
  extra: fc.Arbitrary<Uint8Array> = valid,
): fc.Arbitrary<Uint8Array> =>
  fc.oneof(
    valid,
    extra,
    fc.uint8Array({ maxLength: 4096 }),
    fc.tuple(valid, fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
      if (b.length === 0) return b;
      const out = Uint8Array.from(b);
      out[i % out.length]! ^= x;
      return out;
    }),
    fc.tuple(valid, fc.nat()).map(([b, n]) => b.subarray(0, b.length === 0 ? 0 : n % b.length)),
    fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([b, tail]) => {
      const out = new Uint8Array(b.length + tail.length);
      out.set(b);
      out.set(tail, b.length);
      return out;
    }),
    fc
      .tuple(valid, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 9 }))
      .map(([b, i, patch]) => {
        const out = Uint8Array.from(b);
        out.set(
          patch.subarray(0, Math.max(0, out.length - (i % (out.length + 1)))),
          i % (out.length + 1),
        );
        return out;
      }),
  );

export function fuzz(
  target: FuzzTarget,
  budget: { runs?: number; seconds?: number; seed?: number },
): { runs: number; failure: { input: string; reason: string } | null } {
  let runs = 0;
  let failure: { input: string; reason: string } | null = null;
  const deadline = budget.seconds === undefined ? Infinity : Date.now() + budget.seconds * 1000;
  try {
    fc.assert(
      fc.property(mutation(target.valid, target.extra), (bytes) => {
        runs++;
        const reason = check(target, bytes);
        if (reason !== null) failure = { input: Buffer.from(bytes).toString('hex'), reason };
        return reason === null;
      }),
      {
        numRuns: budget.runs ?? (budget.seconds === undefined ? 10_000 : Number.MAX_SAFE_INTEGER),
        ...(budget.seconds === undefined ? {} : { interruptAfterTimeLimit: deadline - Date.now() }),
        ...(budget.seed === undefined ? {} : { seed: budget.seed }),
        endOnFailure: true,
      },
    );
  } catch {
    // fast-check reports the (shrunk) failure; ours holds the first failing input.
  }
  return { runs, failure };
}

async function main(argv: readonly string[]): Promise<number> {
  const name = argv[0] ?? 'all';
  const flag = (f: string) => {
    const i = argv.indexOf(f);
    return i < 0 ? undefined : Number(argv[i + 1]);
  };
  const targets = name === 'all' ? TARGETS : TARGETS.filter((t) => t.name === name);
  if (targets.length === 0) {
    console.error(`unknown target ${name}; targets: ${TARGETS.map((t) => t.name).join(', ')}, all`);
    return 2;
  }
  let failed = 0;
  for (const target of targets) {
    const started = Date.now();
    const runs = flag('--runs');
    const seconds = flag('--seconds');
    const seed = flag('--seed');
    const result = fuzz(target, {
      ...(runs === undefined ? {} : { runs }),
      ...(seconds === undefined ? {} : { seconds }),
      ...(seed === undefined ? {} : { seed }),
    });
    const ms = Date.now() - started;
    if (result.failure === null) {
      console.log(`${target.name}: ${result.runs} inputs in ${ms} ms, no crash`);
      continue;
    }
    failed++;
    mkdirSync(REGRESSIONS_DIR, { recursive: true });
    const file = join(REGRESSIONS_DIR.pathname, `${target.name}-${Date.now()}.hex`);
    writeFileSync(file, `${result.failure.input}\n`);
    console.error(
      `${target.name}: CRASH after ${result.runs} inputs: ${result.failure.reason}; saved ${file}`,
    );
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
