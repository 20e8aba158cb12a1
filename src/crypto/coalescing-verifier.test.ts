import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CoalescingVerifier, CoalescingVerifierConfigError } from './coalescing-verifier.ts';
import { sha256 } from './hash.ts';
import { getPublicKey, sign } from './signer.ts';
import { bestVerifier } from './verifier.ts';
import { ParallelVerifier, type VerifyJob } from './verify-pool.ts';

/** `count` signatures; every 5th has a flipped bit. */
function makeJobs(count: number): { jobs: VerifyJob[]; expected: boolean[] } {
  const key = sha256(Uint8Array.of(9));
  const pub = getPublicKey(key);
  const jobs: VerifyJob[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const msg = sha256(new TextEncoder().encode(`coalesce ${i}`));
    let sig = sign(msg, key);
    if (i % 5 === 2) {
      sig = sig.slice();
      sig[10]! ^= 1;
    }
    jobs.push({ msg, sig, pub });
    expected.push(i % 5 !== 2);
  }
  return { jobs, expected };
}

describe('CoalescingVerifier', () => {
  const { jobs, expected } = makeJobs(120);
  let pool: ParallelVerifier;

  before(async () => {
    pool = await ParallelVerifier.init({ workers: 2 });
  });
  after(async () => {
    await pool.close();
  });

  it('gives every caller its own results, in order, from fewer pool batches', async () => {
    const coalescer = new CoalescingVerifier({}, { pool });
    // 40 callers of 3 jobs each, all in the same turn (as concurrent admissions are).
    const calls = Array.from({ length: 40 }, (_, c) =>
      coalescer.verifyBatch(jobs.slice(3 * c, 3 * c + 3)),
    );
    const results = await Promise.all(calls);
    results.forEach((r, c) => {
      assert.deepEqual(r, expected.slice(3 * c, 3 * c + 3), `caller ${c}`);
    });
    assert.equal(coalescer.stats.jobs, 120);
    assert.equal(coalescer.stats.batches, 1);
  });

  it('agrees with the inline verifier for any split into callers and batch cap', async () => {
    const inline = bestVerifier();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 20 }),
        async (sizes, maxBatch) => {
          const coalescer = new CoalescingVerifier({ maxBatch }, { pool });
          let at = 0;
          const slices = sizes.map((n) => {
            const slice = jobs.slice(at, at + n);
            at += n;
            return slice;
          });
          const got = await Promise.all(slices.map((s) => coalescer.verifyBatch(s)));
          const want = slices.map((s) => s.map((j) => inline.verify(j.msg, j.sig, j.pub)));
          assert.deepEqual(got, want);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('sends a lone caller at once, and later arrivals after the batch ahead returns', async () => {
    const sizes: number[] = [];
    let release: (() => void) | undefined;
    const slowPool = {
      async verifyBatch(batch: readonly VerifyJob[]): Promise<boolean[]> {
        sizes.push(batch.length);
        if (sizes.length === 1) await new Promise<void>((r) => (release = r));
        return batch.map(() => true);
      },
    };
    const coalescer = new CoalescingVerifier({ maxWaitMs: 10_000 }, { pool: slowPool });
    const first = coalescer.verifyBatch(jobs.slice(0, 1));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sizes, [1]); // no timer: out on the next turn
    const later = [
      coalescer.verifyBatch(jobs.slice(1, 3)),
      coalescer.verifyBatch(jobs.slice(3, 4)),
    ];
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sizes, [1]); // held while the first batch is out
    release!();
    await first;
    await Promise.all(later);
    assert.deepEqual(sizes, [1, 3]);
  });

  it('waits no longer than maxWaitMs behind a batch that does not come back', async () => {
    const sizes: number[] = [];
    const stuckPool = {
      verifyBatch(batch: readonly VerifyJob[]): Promise<boolean[]> {
        sizes.push(batch.length);
        if (sizes.length === 1) return new Promise<boolean[]>(() => {});
        return Promise.resolve(batch.map(() => false));
      },
    };
    const coalescer = new CoalescingVerifier({ maxWaitMs: 5 }, { pool: stuckPool });
    void coalescer.verifyBatch(jobs.slice(0, 1));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(await coalescer.verifyBatch(jobs.slice(1, 3)), [false, false]);
    assert.deepEqual(sizes, [1, 2]);
  });

  it('passes a pool failure to every caller of the batch', async () => {
    const failing = { verifyBatch: () => Promise.reject(new Error('pool closed')) };
    const coalescer = new CoalescingVerifier({}, { pool: failing });
    const calls = [
      coalescer.verifyBatch(jobs.slice(0, 2)),
      coalescer.verifyBatch(jobs.slice(2, 3)),
    ];
    for (const call of calls) await assert.rejects(call, /pool closed/);
  });

  it('rejects bad options with a typed error', () => {
    for (const opts of [{ maxWaitMs: -1 }, { maxWaitMs: Number.NaN }, { maxBatch: 0 }]) {
      assert.throws(
        () => new CoalescingVerifier(opts, { pool }),
        (e: unknown) => e instanceof CoalescingVerifierConfigError,
      );
    }
  });
});
