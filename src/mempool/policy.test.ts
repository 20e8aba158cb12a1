import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputsOf, spend, TestKey, testMempool } from '../../test/support/mempool-fixture.ts';
import { MempoolError } from './errors.ts';
import { resolveMempoolOptions } from './options.ts';
import { FeeFloor } from './policy.ts';
import type { AdmissionResult } from './types.ts';

// The overflow fee floor's decay, pinned at each boundary: how fast it halves
// at each pool fill level, when it drops to zero, and that the remainder of a
// partial half-life carries over. mempool.test.ts covers how evictions raise it.

const HOUR = 60 * 60 * 1000;
const HALF_LIFE = 12 * HOUR;
const MAX_BYTES = 1000;

function floor(rate: bigint, minRelayFeeRate = 1000n): FeeFloor {
  const f = new FeeFloor(resolveMempoolOptions({ maxBytes: MAX_BYTES, minRelayFeeRate }));
  f.raise(rate, 0);
  return f;
}

describe('mempool policy: overflow fee floor', () => {
  it('is zero until raised', () => {
    const f = new FeeFloor(resolveMempoolOptions({ maxBytes: MAX_BYTES }));
    assert.equal(f.current(0, MAX_BYTES), 0n);
    assert.equal(f.current(100 * HALF_LIFE, 0), 0n);
  });

  it('halves every 12 hours while the pool is at least half full', () => {
    const f = floor(64_000n);
    assert.equal(f.current(0, MAX_BYTES), 64_000n);
    assert.equal(f.current(HALF_LIFE - 1, MAX_BYTES), 64_000n);
    assert.equal(f.current(HALF_LIFE, MAX_BYTES), 32_000n);
    // The remainder of a partial period counts towards the next halving.
    assert.equal(f.current(HALF_LIFE + HALF_LIFE / 2, MAX_BYTES), 32_000n);
    assert.equal(f.current(2 * HALF_LIFE, MAX_BYTES), 16_000n);
    assert.equal(f.current(4 * HALF_LIFE, MAX_BYTES), 4_000n);
    // Exactly half full is still "full" for the decay.
    const half = floor(64_000n);
    assert.equal(half.current(HALF_LIFE - 1, MAX_BYTES / 2), 64_000n);
    assert.equal(half.current(HALF_LIFE, MAX_BYTES / 2), 32_000n);
  });

  it('halves every 6 hours between a quarter and half full, every 3 hours below a quarter', () => {
    const mid = floor(64_000n);
    assert.equal(mid.current(HALF_LIFE / 2 - 1, MAX_BYTES / 2 - 1), 64_000n);
    assert.equal(mid.current(HALF_LIFE / 2, MAX_BYTES / 2 - 1), 32_000n);
    // Exactly a quarter full decays at the middle rate.
    const quarter = floor(64_000n);
    assert.equal(quarter.current(HALF_LIFE / 4, MAX_BYTES / 4), 64_000n);
    assert.equal(quarter.current(HALF_LIFE / 2, MAX_BYTES / 4), 32_000n);
    const low = floor(64_000n);
    assert.equal(low.current(HALF_LIFE / 4 - 1, MAX_BYTES / 4 - 1), 64_000n);
    assert.equal(low.current(HALF_LIFE / 4, MAX_BYTES / 4 - 1), 32_000n);
    assert.equal(low.current(HALF_LIFE, 0), 4_000n);
  });

  it('drops to zero below half the relay fee rate, and not at exactly half', () => {
    const f = floor(2000n, 1000n);
    assert.equal(f.current(HALF_LIFE, MAX_BYTES), 1000n);
    // 500 is exactly half the relay rate: kept.
    assert.equal(f.current(2 * HALF_LIFE, MAX_BYTES), 500n);
    // 250 is below half: gone, and it stays gone.
    assert.equal(f.current(3 * HALF_LIFE, MAX_BYTES), 0n);
    assert.equal(f.current(4 * HALF_LIFE, MAX_BYTES), 0n);
  });

  it('clears after 64 halvings however large it was, and keeps it at 63', () => {
    // A huge rate and no relay minimum, so only the halving count decides.
    const big = 1n << 100n;
    const at63 = floor(big, 0n);
    assert.equal(at63.current(63 * HALF_LIFE, MAX_BYTES), big >> 63n);
    const at64 = floor(big, 0n);
    assert.equal(at64.current(64 * HALF_LIFE, MAX_BYTES), 0n);
  });

  it('holds a raised floor for a full half-life, even one below half the relay rate', () => {
    const f = floor(400n, 1000n);
    assert.equal(f.current(0, MAX_BYTES), 400n);
    assert.equal(f.current(HALF_LIFE - 1, MAX_BYTES), 400n);
    assert.equal(f.current(HALF_LIFE, MAX_BYTES), 0n);
  });

  it('neither rises nor drops when the clock goes backwards', () => {
    const f = floor(64_000n);
    assert.equal(f.current(-HOUR, MAX_BYTES), 64_000n);
    assert.equal(f.current(-3 * HALF_LIFE, MAX_BYTES), 64_000n);
    assert.equal(f.current(HALF_LIFE, MAX_BYTES), 32_000n);
  });

  it('restarts its clock when raised again', () => {
    const f = floor(64_000n);
    assert.equal(f.current(HALF_LIFE, MAX_BYTES), 32_000n);
    f.raise(50_000n, HALF_LIFE + HOUR);
    assert.equal(f.current(2 * HALF_LIFE, MAX_BYTES), 50_000n);
    assert.equal(f.current(2 * HALF_LIFE + HOUR, MAX_BYTES), 25_000n);
  });
});

// Replacement and package limits through the real admission path, at the
// boundaries mempool.test.ts approaches from one side only.

const alice = new TestKey(1);
const bob = new TestKey(2);

async function refused(promise: Promise<unknown>, code: string): Promise<MempoolError> {
  const error = await promise.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof MempoolError, String(error));
  assert.equal(error.code, code, error.message);
  return error;
}

function accepted(result: AdmissionResult): Extract<AdmissionResult, { status: 'accepted' }> {
  assert.equal(result.status, 'accepted');
  return result as Extract<AdmissionResult, { status: 'accepted' }>;
}

describe('mempool policy: replace-by-fee boundaries', () => {
  it('evicts exactly maxReplacements transactions, and refuses one more', async () => {
    for (const [max, ok] of [
      [3, true],
      [2, false],
    ] as const) {
      const { mempool, chain } = testMempool({ maxReplacements: max });
      const coin = chain.fund(alice, 100_000n);
      const original = spend([coin], 1000n, { outputs: 2 });
      accepted(await mempool.add(original));
      for (const output of outputsOf(original, alice)) {
        accepted(await mempool.add(spend([output], 1000n)));
      }
      const replacement = mempool.add(spend([coin], 50_000n, { to: bob }));
      if (ok) {
        assert.equal(accepted(await replacement).replaced.length, 3);
        assert.equal(mempool.size, 1);
      } else {
        await refused(replacement, 'MEMPOOL_TOO_MANY_REPLACEMENTS');
        assert.equal(mempool.size, 3);
      }
      mempool.checkConsistency();
    }
  });

  it('refuses a replacement paying exactly what it evicts, even with no relay fee', async () => {
    // With a zero relay rate only "strictly more than the evicted fees" stops
    // a free replacement; a smaller replacement has the higher rate anyway.
    const { mempool, chain } = testMempool({ minRelayFeeRate: 0n });
    const coin = chain.fund(alice, 100_000n);
    const original = spend([coin], 5000n, { outputs: 10 });
    accepted(await mempool.add(original));
    const error = await refused(
      mempool.add(spend([coin], 5000n, { to: bob })),
      'MEMPOOL_REPLACEMENT_REJECTED',
    );
    assert.match(error.message, /must exceed the 5000 it evicts/);
    assert.equal(mempool.spenderOf(coin.outpoint)?.tx, original);
    accepted(await mempool.add(spend([coin], 5001n, { to: bob })));
    mempool.checkConsistency();
  });

  it('refuses a replacement at exactly the fee rate it replaces, even paying more in total', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000_000n);
    const small = spend([coin], 0n);
    const large = spend([coin], 0n, { outputs: 30 });
    const [s, l] = [BigInt(small.size), BigInt(large.size)];
    // Fees proportional to size, 10 per byte each: the same rate, and the
    // larger one pays far more than the smaller one plus its own relay fee.
    const original = spend([coin], 10n * s);
    accepted(await mempool.add(original));
    const sameRate = spend([coin], 10n * l, { outputs: 30, to: bob });
    assert.equal(BigInt(sameRate.size), l);
    const error = await refused(mempool.add(sameRate), 'MEMPOOL_REPLACEMENT_REJECTED');
    assert.match(error.message, /fee rate/);
    // One base unit more is a strictly higher rate: accepted.
    const higher = spend([coin], 10n * l + 1n, { outputs: 30, to: bob });
    assert.deepEqual(
      accepted(await mempool.add(higher)).replaced.map((tx) => tx.txid),
      [original.txid],
    );
    mempool.checkConsistency();
  });

  it('counts descendants as they will be once the replaced transactions are gone', async () => {
    // The parent is at the descendant limit (itself and two children). A
    // replacement of one child that also spends the parent's third output
    // keeps the count at the limit, since the child it replaces leaves.
    const { mempool, chain } = testMempool({ maxDescendants: 3 });
    const parent = spend([chain.fund(alice, 100_000n)], 1000n, { outputs: 3 });
    const [o0, o1, o2] = outputsOf(parent, alice);
    accepted(await mempool.add(parent));
    const child = spend([o0!], 1000n);
    accepted(await mempool.add(child));
    accepted(await mempool.add(spend([o1!], 1000n)));
    await refused(mempool.add(spend([o2!], 1000n)), 'MEMPOOL_TOO_MANY_DESCENDANTS');
    const replacement = spend([o0!, o2!], 20_000n, { to: bob });
    assert.deepEqual(
      accepted(await mempool.add(replacement)).replaced.map((tx) => tx.txid),
      [child.txid],
    );
    assert.equal(mempool.get(parent.txid)!.descendantCount, 3);
    mempool.checkConsistency();
  });

  it('admits a replacement at exactly the ancestor limit', async () => {
    // A chain of three at maxAncestors 3: a fourth link is refused.
    const { mempool, chain } = testMempool({ maxAncestors: 3 });
    const a = spend([chain.fund(alice, 100_000n)], 1000n);
    const b = spend([outputsOf(a, alice)[0]!], 1000n);
    const c = spend([outputsOf(b, alice)[0]!], 1000n);
    for (const tx of [a, b, c]) accepted(await mempool.add(tx));
    const error = await refused(
      mempool.add(spend([outputsOf(c, alice)[0]!], 1000n)),
      'MEMPOOL_TOO_MANY_ANCESTORS',
    );
    assert.match(error.message, /more than 2 unconfirmed ancestors/);
    // A replacement of the third link has two ancestors and counts itself: 3, allowed.
    const c2 = spend([outputsOf(b, alice)[0]!], 20_000n, { to: bob });
    assert.deepEqual(
      accepted(await mempool.add(c2)).replaced.map((tx) => tx.txid),
      [c.txid],
    );
    mempool.checkConsistency();
  });
});
