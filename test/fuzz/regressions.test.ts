/**
 * Every crash the fuzz runner ever saved (test/fuzz/regressions/TARGET-*.hex)
 * must now behave, and a short budget of fresh fuzzing per target runs in CI.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { check, fuzz, REGRESSIONS_DIR } from './runner.ts';
import { TARGETS } from './targets.ts';

describe('fuzz targets', () => {
  it('saved crash inputs are rejected with a typed error or round-trip', () => {
    const files = readdirSync(REGRESSIONS_DIR).filter((f) => f.endsWith('.hex'));
    for (const file of files) {
      const target = TARGETS.find((t) => file.startsWith(`${t.name}-`));
      assert.ok(target !== undefined, `${file}: no such target`);
      const bytes = Buffer.from(readFileSync(new URL(file, REGRESSIONS_DIR), 'utf8').trim(), 'hex');
      assert.equal(check(target, bytes), null, file);
    }
  });

  it('names every target once', () => {
    const names = TARGETS.map((t) => t.name);
    assert.deepEqual([...new Set(names)], names);
  });

  for (const target of TARGETS) {
    // Seeds that the decoder rejects would leave mutation fuzzing only the error paths.
    it(`${target.name}: valid seeds decode and re-encode to the same bytes`, () => {
      for (const bytes of fc.sample(target.valid, { numRuns: 20, seed: 7 })) {
        if (bytes.length === 0) continue; // a generator's "could not encode" marker
        assert.equal(check(target, bytes), null);
        assert.doesNotThrow(() => target.decode(bytes), target.name);
      }
    });

    it(`${target.name}: 300 mutated and random inputs`, () => {
      const result = fuzz(target, { runs: 300, seed: 42 });
      assert.equal(result.failure, null, JSON.stringify(result.failure));
    });
  }
});
