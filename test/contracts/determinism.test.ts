import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { contractId } from '../../src/primitives/index.ts';
import { toHex } from '../../src/util/index.ts';
import { ContractRuntime, ContractSandbox } from '../../src/vm/index.ts';
import { blockRuns } from '../support/contract-block-runs.ts';
import {
  argsBytes,
  ContractHarness,
  codeBytes,
  contractTx,
  resetTxSerial,
} from '../support/contract-chain.ts';
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

test('random call sequences give the same roots, gas and events with fresh and warm contexts', async () => {
  const source = `
export function init(ctx) { ctx.storage.set('n', 0); }
export function add(ctx, by) {
  const n = ctx.storage.get('n') + by;
  ctx.storage.set('n', n);
  ctx.storage.set('at' + (n % 5), [n, ctx.caller]);
  ctx.emit('added', n);
  if (n % 3 === 0) throw new Error('three');
  return n;
}
export function drop(ctx, k) { ctx.storage.delete('at' + k); return k; }
export function spin(ctx) { for (;;) {} }
`;
  const op = fc.oneof(
    fc.record({ method: fc.constant('add'), arg: fc.integer({ min: 1, max: 9 }) }),
    fc.record({ method: fc.constant('drop'), arg: fc.integer({ min: 0, max: 4 }) }),
    fc.record({ method: fc.constant('spin'), arg: fc.constant(0) }),
    fc.record({ method: fc.constant('nope'), arg: fc.constant(0) }),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.array(op, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
      async (blocks) => {
        const run = async (runtime: ContractRuntime) => {
          resetTxSerial();
          const h = await ContractHarness.open(runtime);
          try {
            const d = contractTx({
              payload: {
                kind: 'deploy',
                gasLimit: 100_000,
                gasPrice: 1n,
                code: codeBytes(source),
                args: new Uint8Array(0),
              },
            });
            const id = contractId(d.tx.txid);
            const lines = [toHex((await h.block([d])).root)];
            for (const ops of blocks) {
              const txs = ops.map(({ method, arg }) =>
                contractTx({
                  payload: {
                    kind: 'call',
                    contractId: id,
                    gasLimit: method === 'spin' ? 2_000 : 30_000,
                    gasPrice: 1n,
                    method,
                    args: argsBytes(method === 'spin' || method === 'nope' ? '[]' : `[${arg}]`),
                  },
                }),
              );
              const { root, block } = await h.block(txs);
              lines.push(`${toHex(root)} ${block.gasUsed} ${JSON.stringify(block.events)}`);
            }
            return lines;
          } finally {
            await h.close();
          }
        };
        assert.deepEqual(
          await run(new ContractRuntime()),
          await run(new ContractRuntime({ warmContexts: false })),
        );
      },
    ),
    { numRuns: 6, seed: 9 },
  );
});
