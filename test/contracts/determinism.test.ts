import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ContractRuntime, ContractSandbox } from '../../src/vm/index.ts';
import { blockRuns } from '../support/contract-block-runs.ts';
import { determinismRuns } from '../support/contract-runs.ts';

test('two processes compute byte-identical gas, values, storage and events', () => {
  const script = fileURLToPath(new URL('../support/contract-runs.ts', import.meta.url));
  const other = execFileSync(process.execPath, ['--no-node-snapshot', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const sandbox = new ContractSandbox();
  try {
    const here = `${determinismRuns(sandbox).join('\n')}\n`;
    assert.equal(other, here);
    assert.ok(here.split('\n').length > 10);
  } finally {
    sandbox.dispose();
  }
});

test('two processes, and fresh vs warm contexts, compute the same state roots for the same blocks', async () => {
  const script = fileURLToPath(new URL('../support/contract-block-runs.ts', import.meta.url));
  const other = execFileSync(process.execPath, ['--no-node-snapshot', script], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const warm = await blockRuns(new ContractRuntime());
  const fresh = await blockRuns(new ContractRuntime({ warmContexts: false }));
  assert.equal(other, `${warm.join('\n')}\n`);
  assert.deepEqual(fresh, warm);
  assert.equal(new Set(warm.map((line) => line.split(' ')[0])).size, 3);
});
