import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  outputsOf,
  referenceTemplate,
  spend,
  TestKey,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import type { BatchVerifier } from '../consensus/signatures.ts';
import type { Transaction } from '../primitives/transaction.ts';
import { bytesKey } from '../util/bytes.ts';

const alice = new TestKey(1);

function ids(txs: readonly Transaction[]): string[] {
  return txs.map((tx) => bytesKey(tx.txid));
}

/** Every pool parent of a chosen transaction was chosen before it. */
function assertParentsFirst(txs: readonly Transaction[]): void {
  const seen = new Set<string>();
  const chosen = new Set(ids(txs));
  for (const tx of txs) {
    for (const { prevout } of tx.inputs) {
      const parent = bytesKey(prevout.txid);
      if (chosen.has(parent)) assert.ok(seen.has(parent), 'child before its parent');
    }
    seen.add(bytesKey(tx.txid));
  }
}

describe('mempool: block template', () => {
  it('orders independent transactions by fee rate and sums their fees', async () => {
    const { mempool, chain } = testMempool();
    const txs = [3000n, 1000n, 5000n, 2000n].map((fee) =>
      spend([chain.fund(alice, 100_000n)], fee),
    );
    for (const tx of txs) await mempool.add(tx);
    const template = mempool.blockTemplate({ maxBytes: 1_000_000 });
    assert.deepEqual(ids(template.txs), ids([txs[2]!, txs[0]!, txs[3]!, txs[1]!]));
    assert.equal(template.fees, 11_000n);
    assert.equal(template.bytes, mempool.bytes);
  });

  it('puts every parent before its child, even when the child pays more', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 500n, { outputs: 2 });
    const child = spend([outputsOf(parent, alice)[0]!], 9000n);
    const grandchild = spend([outputsOf(child, alice)[0]!, outputsOf(parent, alice)[1]!], 8000n);
    for (const tx of [parent, child, grandchild]) await mempool.add(tx);
    const template = mempool.blockTemplate({ maxBytes: 1_000_000 });
    assert.deepEqual(ids(template.txs), ids([parent, child, grandchild]));
  });

  it('chooses a CPFP package over a mid-fee transaction that beats the parent alone', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 300n);
    const child = spend([outputsOf(parent, alice)[0]!], 6000n);
    const middle = spend([chain.fund(alice, 100_000n)], 2000n);
    for (const tx of [parent, middle, child]) await mempool.add(tx);
    // Room for two: the pair pays (300 + 6000) / 2 per tx-size, more than 2000.
    const room = parent.size + child.size;
    const template = mempool.blockTemplate({ maxBytes: room });
    assert.deepEqual(ids(template.txs), ids([parent, child]));
    assert.equal(template.fees, 6300n);
    assertParentsFirst(template.txs);
  });

  it('re-scores the remaining children once their parent is chosen', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 300n, { outputs: 2 });
    const [o0, o1] = outputsOf(parent, alice);
    const rich = spend([o0!], 9000n);
    const modest = spend([o1!], 1500n);
    const loner = spend([chain.fund(alice, 100_000n)], 1000n);
    for (const tx of [parent, rich, modest, loner]) await mempool.add(tx);
    const template = mempool.blockTemplate({ maxBytes: 1_000_000 });
    // Alone, `modest` (1500) outranks `loner` once its parent is in the block.
    assert.deepEqual(ids(template.txs), ids([parent, rich, modest, loner]));
  });

  it('respects maxBytes and maxTxs, skipping packages that do not fit', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 300n);
    const child = spend([outputsOf(parent, alice)[0]!], 9000n);
    const small = [2000n, 1500n].map((fee) => spend([chain.fund(alice, 100_000n)], fee));
    for (const tx of [parent, child, ...small]) await mempool.add(tx);
    // Space for one transaction: the package (two) is skipped, the best single goes in.
    const one = mempool.blockTemplate({ maxBytes: parent.size });
    assert.deepEqual(ids(one.txs), ids([small[0]!]));
    const capped = mempool.blockTemplate({ maxBytes: 1_000_000, maxTxs: 3 });
    assert.deepEqual(ids(capped.txs), ids([parent, child, small[0]!]));
    assert.deepEqual(mempool.blockTemplate({ maxBytes: 0 }).txs, []);
  });
});

describe('mempool: block template properties', () => {
  it('matches the reference selection on random pools, before and after a block', async () => {
    // Signatures are waved through here: templates never look at them, and
    // the point is many random pool shapes per second.
    const acceptAll: BatchVerifier = { verifyBatch: async (jobs) => jobs.map(() => true) };
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            picks: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
            fee: fc.bigInt({ min: 300n, max: 30_000n }),
            outputs: fc.integer({ min: 1, max: 3 }),
          }),
          { minLength: 10, maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 6000 }),
        fc.nat(),
        async (specs, maxBytes, confirm) => {
          const { mempool, chain } = testMempool({}, { verifier: acceptAll });
          let unspent = Array.from({ length: 6 }, () => chain.fund(alice, 1_000_000n));
          for (const spec of specs) {
            const inputs = [...new Set(spec.picks.map((p) => unspent[p % unspent.length]!))];
            if (inputs.reduce((sum, s) => sum + s.amount, 0n) < spec.fee) continue;
            const tx = spend(inputs, spec.fee, { outputs: spec.outputs, sign: false });
            try {
              await mempool.add(tx);
            } catch {
              continue; // over a limit: fine, the pool just stays smaller
            }
            unspent = unspent.filter((s) => !inputs.includes(s)).concat(outputsOf(tx, alice));
            if (unspent.length === 0) break;
          }
          const check = () => {
            for (const limit of [maxBytes, Number.MAX_SAFE_INTEGER]) {
              const template = mempool.blockTemplate({ maxBytes: limit });
              assertParentsFirst(template.txs);
              assert.ok(template.bytes <= limit);
              assert.deepEqual(ids(template.txs), ids(referenceTemplate(mempool, limit)));
            }
          };
          check();
          // Confirm a prefix of the best template: the rest re-scores on what is left.
          const best = mempool.blockTemplate({ maxBytes: Number.MAX_SAFE_INTEGER }).txs;
          await mempool.removeForBlock(chain.connect(best.slice(0, confirm % (best.length + 1))));
          mempool.checkConsistency();
          check();
        },
      ),
      { numRuns: 150 },
    );
  });
});
