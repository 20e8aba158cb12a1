import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ContractSandbox } from '../../src/vm/index.ts';
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
