import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type MemoryChain,
  outputsOf,
  referenceTemplate,
  type Spendable,
  spend,
  TestKey,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import { outpointKey } from '../primitives/outpoint.ts';
import type { Transaction } from '../primitives/transaction.ts';
import { bytesKey } from '../util/bytes.ts';
import type { Mempool } from './mempool.ts';

const keys = [new TestKey(1), new TestKey(2)];
const DAY = 24 * 60 * 60 * 1000;

type Op =
  | { kind: 'spend'; picks: number[]; fee: bigint; outputs: number; to: number; extend: boolean }
  | { kind: 'orphan'; pick: number; fee: bigint }
  | { kind: 'release'; pick: number }
  | { kind: 'block'; take: boolean[]; conflict: number | null }
  | { kind: 'expire'; advanceMs: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('spend' as const),
      picks: fc.array(fc.nat(), { minLength: 1, maxLength: 2 }),
      fee: fc.bigInt({ min: 0n, max: 20_000n }),
      outputs: fc.integer({ min: 1, max: 3 }),
      to: fc.nat(1),
      // Spend the newest pool entry's outputs: builds long unconfirmed chains.
      extend: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('orphan' as const),
      pick: fc.nat(),
      fee: fc.bigInt({ min: 200n, max: 5000n }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('block' as const),
      take: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      conflict: fc.option(fc.nat(), { nil: null }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('expire' as const),
      advanceMs: fc.integer({ min: 0, max: 3 * DAY }),
    }),
  },
);

/** What must hold after any sequence of operations, checked from the outside. */
function assertInvariants(mempool: Mempool, chain: MemoryChain): void {
  mempool.checkConsistency();
  const spentBy = new Map<string, Transaction>();
  let bytes = 0;
  let count = 0;
  for (const entry of mempool.entries()) {
    count++;
    bytes += entry.size;
    for (const { prevout } of entry.tx.inputs) {
      const key = bytesKey(outpointKey(prevout));
      assert.ok(!spentBy.has(key), 'an outpoint is spent twice in the pool');
      spentBy.set(key, entry.tx);
      assert.equal(mempool.spenderOf(prevout)?.tx, entry.tx, 'spent index disagrees');
      // The pool is valid on top of the chain: each input is a chain coin or a pool output.
      const fromChain = chain.coins.has(key);
      const fromPool = mempool.get(prevout.txid)?.tx.outputs[prevout.index] !== undefined;
      assert.ok(fromChain !== fromPool, 'input neither (or both) in chain and pool');
    }
    assert.ok(
      !chain.coins.has(bytesKey(outpointKey({ txid: entry.txid, index: 0 }))),
      'a confirmed transaction stayed in the pool',
    );
  }
  assert.equal(mempool.size, count);
  assert.equal(mempool.bytes, bytes);
  for (const maxBytes of [300, 700]) {
    const template = mempool.blockTemplate({ maxBytes });
    assert.ok(template.bytes <= maxBytes);
    assert.deepEqual(
      template.txs.map((tx) => bytesKey(tx.txid)),
      referenceTemplate(mempool, maxBytes).map((tx) => bytesKey(tx.txid)),
      'template differs from the reference selection',
    );
  }
  // Every entry can be mined: the template takes the whole pool, parents first.
  const template = mempool.blockTemplate({ maxBytes: Number.MAX_SAFE_INTEGER });
  assert.equal(template.txs.length, count);
  const seen = new Set<string>();
  for (const tx of template.txs) {
    for (const { prevout } of tx.inputs) {
      if (mempool.has(prevout.txid)) assert.ok(seen.has(bytesKey(prevout.txid)), 'child first');
    }
    seen.add(bytesKey(tx.txid));
  }
}

async function run(ops: readonly Op[]): Promise<void> {
  const { mempool, chain, clock } = testMempool({
    maxBytes: 1000,
    maxAncestors: 3,
    maxDescendants: 4,
    maxReplacements: 2,
    maxOrphans: 3,
    expiryMs: 2 * DAY,
  });
  const known: Spendable[] = [];
  for (let i = 0; i < 8; i++) known.push(chain.fund(keys[i % 2]!, 50_000n + BigInt(i) * 1000n));
  const withheld: Transaction[] = [];
  const live = () =>
    known.filter(
      (s) => chain.coins.has(bytesKey(outpointKey(s.outpoint))) || mempool.has(s.outpoint.txid),
    );
  const attempt = async (tx: Transaction) => {
    try {
      await mempool.add(tx);
    } catch (error) {
      if (!(error instanceof Error && 'code' in error)) throw error;
    }
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'spend': {
        const newest = [...mempool.entries()].at(-1);
        const candidates =
          op.extend && newest !== undefined
            ? live().filter((s) => bytesKey(s.outpoint.txid) === bytesKey(newest.txid))
            : live();
        if (candidates.length === 0) break;
        const inputs = [...new Set(op.picks.map((p) => candidates[p % candidates.length]!))];
        if (inputs.reduce((sum, s) => sum + s.amount, 0n) < op.fee) break;
        const to = keys[op.to]!;
        const tx = spend(inputs, op.fee, { outputs: op.outputs, to });
        known.push(...outputsOf(tx, to));
        await attempt(tx);
        break;
      }
      case 'orphan': {
        const candidates = live();
        if (candidates.length === 0) break;
        const input = candidates[op.pick % candidates.length]!;
        if (input.amount < 2n * op.fee) break;
        const parent = spend([input], op.fee);
        const child = spend(outputsOf(parent, input.key), op.fee);
        known.push(...outputsOf(parent, input.key), ...outputsOf(child, input.key));
        withheld.push(parent);
        await attempt(child);
        break;
      }
      case 'release': {
        if (withheld.length === 0) break;
        const [parent] = withheld.splice(op.pick % withheld.length, 1);
        await attempt(parent!);
        break;
      }
      case 'block': {
        const included = new Set<string>();
        const txs: Transaction[] = [];
        let i = 0;
        for (const entry of mempool.entries()) {
          const take = op.take[i++ % op.take.length]!;
          if (!take || ![...entry.parents].every((p) => included.has(bytesKey(p.txid)))) continue;
          included.add(bytesKey(entry.txid));
          txs.push(entry.tx);
        }
        if (op.conflict !== null) {
          // A block that double-spends a chain coin some pool entry (not in the block) spends.
          const contested = [...mempool.entries()]
            .filter((e) => !included.has(bytesKey(e.txid)))
            .flatMap((e) => e.tx.inputs.map((input) => input.prevout))
            .filter((prevout) => chain.coins.has(bytesKey(outpointKey(prevout))));
          const prevout = contested[op.conflict % Math.max(1, contested.length)];
          const owner = known.find(
            (s) =>
              prevout !== undefined &&
              bytesKey(outpointKey(s.outpoint)) === bytesKey(outpointKey(prevout)),
          );
          if (owner !== undefined) {
            const rival = spend([owner], 0n, { to: keys[0]! });
            known.push(...outputsOf(rival, keys[0]!));
            txs.push(rival);
          }
        }
        await mempool.removeForBlock(chain.connect(txs));
        break;
      }
      case 'expire':
        clock.now += op.advanceMs;
        mempool.expire();
        break;
    }
    assertInvariants(mempool, chain);
  }
}

describe('mempool: properties', () => {
  it('indexes stay consistent under any sequence of adds, replacements, blocks and expiry', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), run), {
      numRuns: 80,
    });
  });
});
