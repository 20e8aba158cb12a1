import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSimulation, type SimResult } from './simulation.ts';

/**
 * 1,000 seeded adversarial schedules of the pure engine (no sockets, no
 * clock). Each checks agreement, validity, evidence (recorded when seen,
 * committed in a block by the end) and post-heal liveness after every
 * step; a failure prints the seed, which `npm run sim -- --from SEED
 * --seeds 1` replays exactly. More seeds: `npm run sim -- --seeds N`.
 */
function runSeeds(validators: number, from: number, count: number): SimResult[] {
  const results: SimResult[] = [];
  for (let seed = from; seed < from + count; seed++) {
    results.push(runSimulation({ seed, validators, chaosMs: 6_000 }));
  }
  return results;
}

function check(results: SimResult[]): void {
  const failures = results.filter((r) => !r.ok).map((r) => `seed ${r.seed}: ${r.failure}`);
  assert.deepEqual(failures, [], failures.join('\n'));
}

describe('BFT simulation', () => {
  it('4 validators, 800 seeds: safe, valid, evidence committed, live after healing', () => {
    const results = runSeeds(4, 1, 800);
    check(results);
    // The adversary is real: equivocations happen and are caught, rounds go above 0.
    assert.ok(results.some((r) => r.equivocations > 0 && r.evidence > 0));
    // Blocks carry the evidence and the equivocator leaves the set.
    assert.ok(results.some((r) => r.committedEvidence > 0 && r.tombstoned > 0));
    assert.ok(results.some((r) => r.maxRound > 0));
    assert.ok(results.every((r) => r.heights >= 2));
  });

  it('7 validators, 200 seeds: the same with f = 2', () => {
    const results = runSeeds(7, 10_001, 200);
    check(results);
    assert.ok(results.some((r) => r.behaviours.filter((b) => b !== 'honest').length === 2));
  });
});
