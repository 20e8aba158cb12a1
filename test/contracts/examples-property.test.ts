/**
 * Determinism of the example contracts under generated call sequences
 * (test/support/example-runs.ts): a warm context per contract, a fresh
 * context per call, and a second process give byte-identical gas, results,
 * storage and events.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ContractSandbox } from '../../src/vm/index.ts';
import { exampleRuns } from '../support/example-runs.ts';

test('generated sequences over the examples: warm and fresh contexts agree', () => {
  const warm = new ContractSandbox();
  const fresh = new ContractSandbox({ warmContexts: false });
  try {
    for (const seed of [1, 2]) {
      const lines = exampleRuns(warm, seed);
      assert.deepEqual(exampleRuns(fresh, seed), lines, `seed ${seed}`);
      // The sequences do reach both answers of every spend rule, and failures.
      const spends = lines.filter((l) => l.includes(' spend '));
      assert.ok(
        spends.some((l) => l.includes('"value":true')),
        `seed ${seed}: no spend allowed`,
      );
      assert.ok(
        spends.some((l) => l.includes('"value":false')),
        `seed ${seed}: none refused`,
      );
      assert.ok(
        lines.some((l) => l.includes('"ok":false')),
        `seed ${seed}: no failed call`,
      );
    }
  } finally {
    fresh.dispose();
    warm.dispose();
  }
});

test('generated sequences over the examples: a second process agrees byte for byte', () => {
  const script = fileURLToPath(new URL('../support/example-runs.ts', import.meta.url));
  const seed = 7;
  const other = execFileSync(process.execPath, ['--no-node-snapshot', script, String(seed)], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const here = new ContractSandbox();
  try {
    assert.equal(other, `${exampleRuns(here, seed).join('\n')}\n`);
  } finally {
    here.dispose();
  }
});
