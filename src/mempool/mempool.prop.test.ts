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
import { MempoolError } from './errors.ts';
import { paysFeeRate } from './feerate.ts';
import type { Mempool } from './mempool.ts';
import type { AdmissionResult } from './types.ts';

const keys = [new TestKey(1), new TestKey(2)];
const DAY = 24 * 60 * 60 * 1000;

type Op =
  | { kind: 'spend'; picks: number[]; fee: bigint; outputs: number; to: number; extend: boolean }
  | { kind: 'orphan'; pick: number; fee: bigint }
  | { kind: 'release'; pick: number }
  | { kind: 'replace'; pick: number; margin: bigint }
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
    // Replace a pool entry and its descendants, paying just below, at or
    // above what the rule demands (margin in units of the relay fee).
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('replace' as const),
      pick: fc.nat(),
      margin: fc.bigInt({ min: -2n, max: 3n }),
    }),
  },
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

const LIMITS = {
  maxBytes: 2000,
  maxAncestors: 8,
  maxDescendants: 10,
  maxReplacements: 6,
  maxOrphans: 3,
  expiryMs: 2 * DAY,
};
const RELAY = 1000n;
const RUNS = 40;

/** What the runs reached, summed over all of them: the property must exercise these. */
const reached = { maxEntries: 0, maxChain: 0, evicted: 0, replaced: 0, replacements: 0, ops: 0 };

/** Every entry that `txid` takes with it: itself and its descendants. */
function withDescendants(mempool: Mempool, txid: Uint8Array): Set<string> {
  const out = new Set<string>();
  const stack = [mempool.get(txid)!];
  for (let e = stack.pop(); e !== undefined; e = stack.pop()) {
    if (out.has(bytesKey(e.txid))) continue;
    out.add(bytesKey(e.txid));
    stack.push(...e.children);
  }
  return out;
}

async function run(ops: readonly Op[]): Promise<void> {
  const { mempool, chain, clock } = testMempool({ ...LIMITS, minRelayFeeRate: RELAY });
  const known: Spendable[] = [];
  for (let i = 0; i < 16; i++) known.push(chain.fund(keys[i % 2]!, 50_000n + BigInt(i) * 1000n));
  const withheld: Transaction[] = [];
  const isChainCoin = (s: Spendable) => chain.coins.has(bytesKey(outpointKey(s.outpoint)));
  const live = () => known.filter((s) => isChainCoin(s) || mempool.has(s.outpoint.txid));

  /**
   * Offers `tx`. A rejection must be a policy refusal (every transaction
   * here is valid consensus-wise), never when `mustAccept`; an accepted
   * replacement must have paid for everything it evicted.
   */
  const attempt = async (tx: Transaction, mustAccept = false): Promise<AdmissionResult | null> => {
    const feesBefore = new Map([...mempool.entries()].map((e) => [bytesKey(e.txid), e.fee]));
    let result: AdmissionResult;
    try {
      result = await mempool.add(tx);
    } catch (error) {
      assert.ok(error instanceof MempoolError, `a valid transaction refused: ${String(error)}`);
      assert.ok(!mustAccept, `a transaction that must be accepted was refused: ${error.message}`);
      return null;
    }
    if (result.status === 'accepted' && result.replaced.length > 0) {
      let evicted = 0n;
      for (const gone of result.replaced) evicted += feesBefore.get(bytesKey(gone.txid))!;
      assert.ok(result.fee > evicted, `replacement fee ${result.fee} <= evicted ${evicted}`);
      assert.ok(
        paysFeeRate(result.fee - evicted, tx.size, RELAY),
        'replacement skipped the relay fee',
      );
      reached.replacements++;
    }
    return result;
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
        // Distinct outpoints (a rebuilt transaction lists its outputs in `known` again).
        const picked = new Map(
          op.picks.map((p) => {
            const s = candidates[p % candidates.length]!;
            return [bytesKey(outpointKey(s.outpoint)), s] as const;
          }),
        );
        const inputs = [...picked.values()];
        if (inputs.reduce((sum, s) => sum + s.amount, 0n) < op.fee) break;
        const to = keys[op.to]!;
        const tx = spend(inputs, op.fee, { outputs: op.outputs, to });
        known.push(...outputsOf(tx, to));
        // Confirmed, uncontested coins, a fee above the pool's minimum and room
        // to spare: nothing may stop it.
        const mustAccept =
          inputs.every((s) => isChainCoin(s) && mempool.spenderOf(s.outpoint) === undefined) &&
          paysFeeRate(op.fee, tx.size, mempool.minFeeRate) &&
          mempool.bytes + tx.size <= LIMITS.maxBytes;
        await attempt(tx, mustAccept);
        break;
      }
      case 'replace': {
        // A pool entry spending only confirmed coins, replaced by a payment
        // of the same coins that pays the evicted fees plus the relay fee
        // (plus `margin` relay fees: some attempts underpay).
        const targets = [...mempool.entries()].filter((e) =>
          e.tx.inputs.every((i) => chain.coins.has(bytesKey(outpointKey(i.prevout)))),
        );
        if (targets.length === 0) break;
        const target = targets[op.pick % targets.length]!;
        const inputs = target.tx.inputs.map(
          (i) =>
            known.find(
              (s) => bytesKey(outpointKey(s.outpoint)) === bytesKey(outpointKey(i.prevout)),
            )!,
        );
        const evicted = withDescendants(mempool, target.txid);
        let evictedFees = 0n;
        for (const key of evicted)
          evictedFees += [...mempool.entries()].find((e) => bytesKey(e.txid) === key)!.fee;
        const size = spend(inputs, 0n, { to: keys[0]! }).size;
        const relay = (BigInt(size) * RELAY + 999n) / 1000n;
        const fee = evictedFees + relay + op.margin * relay;
        const total = inputs.reduce((sum, s) => sum + s.amount, 0n);
        if (fee < 0n || fee > total) break;
        const tx = spend(inputs, fee, { to: keys[0]! });
        known.push(...outputsOf(tx, keys[0]!));
        const paysRule = fee > evictedFees && paysFeeRate(fee - evictedFees, size, RELAY);
        const mustAccept =
          paysRule &&
          evicted.size <= LIMITS.maxReplacements &&
          fee * BigInt(target.size) > target.fee * BigInt(size) &&
          paysFeeRate(fee, size, mempool.minFeeRate) &&
          mempool.bytes + size <= LIMITS.maxBytes;
        const result = await attempt(tx, mustAccept);
        if (!paysRule) assert.equal(result, null, 'a replacement that underpays was accepted');
        if (result?.status === 'accepted') {
          assert.deepEqual(
            new Set(result.replaced.map((t) => bytesKey(t.txid))),
            evicted,
            'the replacement evicted exactly the conflict and its descendants',
          );
        }
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
    let chainLength = 0;
    for (const e of mempool.entries()) chainLength = Math.max(chainLength, e.ancestorCount);
    reached.maxChain = Math.max(reached.maxChain, chainLength);
    reached.maxEntries = Math.max(reached.maxEntries, mempool.size);
  }
  reached.evicted += mempool.stats.evicted;
  reached.replaced += mempool.stats.replaced;
  reached.ops += ops.length;
}

describe('mempool: properties', () => {
  it('indexes stay consistent under any sequence of adds, replacements, blocks and expiry', async () => {
    await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 40, maxLength: 80 }), run), {
      numRuns: RUNS,
    });
    // The runs reached what the property is about: full pools, long chains,
    // many replacements. (A generator change that stops reaching them fails here.)
    process.stderr.write(`mempool property reached: ${JSON.stringify(reached)}\n`);
    assert.ok(reached.ops / RUNS >= 40, `only ${reached.ops / RUNS} operations per run`);
    assert.ok(reached.maxEntries >= 6, `at most ${reached.maxEntries} entries`);
    assert.ok(reached.maxChain >= 4, `unconfirmed chains of at most ${reached.maxChain}`);
    assert.ok(reached.evicted >= 5, `only ${reached.evicted} evictions for room`);
    assert.ok(reached.replacements >= 50, `only ${reached.replacements} replacements`);
  });
});
