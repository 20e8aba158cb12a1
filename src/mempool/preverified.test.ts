import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MemoryChain,
  MemorySignatureCache,
  realBatchVerifier,
  spend,
  TestKey,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import { VerificationError } from '../consensus/errors.ts';
import type { SignatureJob } from '../consensus/signatures.ts';
import type { Coin, Outpoint, TxOutput } from '../primitives/index.ts';
import { LockType } from '../primitives/lock.ts';
import { sameOutputs } from './preverified.ts';

const alice = new TestKey(1);
const bob = new TestKey(2);

describe('sameOutputs', () => {
  const a: TxOutput = { amount: 5n, lock: alice.lock };
  it('holds only for the same amount and lock at every input', () => {
    assert.equal(sameOutputs([a], [{ amount: 5n, lock: { ...alice.lock } }]), true);
    assert.equal(sameOutputs(undefined, [a]), false);
    assert.equal(sameOutputs([a], [a, a]), false);
    assert.equal(sameOutputs([a], [{ amount: 6n, lock: alice.lock }]), false);
    assert.equal(sameOutputs([a], [{ amount: 5n, lock: bob.lock }]), false);
    const contract = { type: LockType.contract, hash: alice.lock.hash };
    assert.equal(sameOutputs([a], [{ amount: 5n, lock: contract }]), false);
  });
});

/** Counts what the signature checker asks of the cache. */
class CountingCache extends MemorySignatureCache {
  lookups = 0;
  override has(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean {
    this.lookups++;
    return super.has(msg, sig, pub);
  }
}

/** A chain whose coin changes amount after the first lookup (pre-verification). */
class ShiftingChain extends MemoryChain {
  private calls = 0;
  override async getCoins(outpoints: readonly Outpoint[]): Promise<Array<Coin | undefined>> {
    const coins = await super.getCoins(outpoints);
    if (this.calls++ === 0) return coins;
    return coins.map((c) => (c === undefined ? c : { ...c, amount: c.amount + 5000n }));
  }
}

describe('mempool: signatures verified before the admission lock', () => {
  it('are not verified or looked up again when admission resolves the same outputs', async () => {
    const jobs: SignatureJob[][] = [];
    const real = realBatchVerifier();
    const cache = new CountingCache();
    const { mempool, chain } = testMempool(
      {},
      {
        cache,
        verifier: {
          verifyBatch: (batch) => {
            jobs.push([...batch]);
            return real.verifyBatch(batch);
          },
        },
      },
    );
    const tx = spend([chain.fund(alice, 10_000n), chain.fund(alice, 20_000n)], 1000n);
    assert.equal((await mempool.add(tx)).status, 'accepted');
    assert.deepEqual(
      jobs.map((b) => b.length),
      [2],
    );
    // Pre-verification's two lookups only: admission trusted what it had verified.
    assert.equal(cache.lookups, 2);
    assert.equal(cache.size, 2);
  });

  it('are checked again when the spent outputs changed in between', async () => {
    const chain = new ShiftingChain();
    const { mempool } = testMempool({}, { chain });
    // Signed over the amount pre-verification sees; admission then sees another.
    const tx = spend([chain.fund(alice, 10_000n)], 1000n);
    await assert.rejects(
      mempool.add(tx),
      (e: unknown) => e instanceof VerificationError && e.code === 'TX_BAD_SIGNATURE',
    );
    assert.equal(mempool.size, 0);
  });
});
