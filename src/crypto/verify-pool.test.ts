import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UtxodError } from '../util/errors.ts';
import { sha256 } from './hash.ts';
import { getPublicKey, sign } from './signer.ts';
import { bestVerifier } from './verifier.ts';
import { ParallelVerifier, type VerifyJob, VerifyPoolError } from './verify-pool.ts';

/** `count` real signatures by a few keys; every 7th corrupted, every 23rd malformed. */
function makeJobs(count: number): { jobs: VerifyJob[]; expected: boolean[] } {
  const keys = [1, 2, 3].map((k) => sha256(Uint8Array.of(k)));
  const pubs = keys.map(getPublicKey);
  const jobs: VerifyJob[] = [];
  const expected: boolean[] = [];
  for (let i = 0; i < count; i++) {
    const msg = sha256(new TextEncoder().encode(`job ${i}`));
    const k = i % keys.length;
    const job = { msg, sig: sign(msg, keys[k]!), pub: pubs[k]! };
    let ok = true;
    if (i % 7 === 3) {
      job.sig = job.sig.slice();
      job.sig[i % 64]! ^= 0x40;
      ok = false;
    } else if (i % 23 === 5) {
      job.pub = job.pub.subarray(1);
      ok = false;
    } else if (i % 31 === 9) {
      job.pub = pubs[(k + 1) % keys.length]!; // someone else's key
      ok = false;
    }
    jobs.push(job);
    expected.push(ok);
  }
  return { jobs, expected };
}

function errorWithCode(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof VerifyPoolError, `expected VerifyPoolError, got ${String(err)}`);
    assert.ok(err instanceof UtxodError);
    assert.equal(err.code, code);
    return true;
  };
}

/**
 * A stand-in worker: reports ready, then on the first request claims every
 * record of the batch (so no one else can verify them) and does `onMessage`
 * (JS source).
 */
function fakeWorker(onMessage: string, startup = '', claim = true): URL {
  const source = `
    import { parentPort } from 'node:worker_threads';
    ${startup}
    parentPort.on('message', (request) => {
      ${claim ? 'Atomics.add(new Int32Array(request.control), 0, request.count);' : ''}
      ${onMessage}
    });
    parentPort.postMessage({ type: 'ready', backend: 'fake' });
  `;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

describe('ParallelVerifier', () => {
  const { jobs, expected } = makeJobs(300);
  const inline = bestVerifier();
  let pool: ParallelVerifier;
  // A ref'd worker shows up as a 'MessagePort' resource that keeps the process alive.
  const workerHandles = () =>
    process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;
  const handlesBefore = workerHandles();

  before(async () => {
    pool = await ParallelVerifier.init({ workers: 2 });
  });

  after(async () => {
    await pool.close();
  });

  it('the fixture matches the inline verifier', () => {
    assert.deepEqual(
      jobs.map((j) => inline.verify(j.msg, j.sig, j.pub)),
      expected,
    );
    assert.ok(expected.filter((ok) => !ok).length > 40);
  });

  it('gives the inline verifier answers, in order, across 2 workers', async () => {
    assert.equal(pool.workerCount, 2);
    assert.deepEqual(pool.backends.workers, [inline.name, inline.name]);
    assert.deepEqual(await pool.verifyBatch(jobs), expected);
  });

  it('handles every split: empty, tiny, odd and fewer jobs than workers', async () => {
    const eager = await ParallelVerifier.init({ workers: 2, inlineBelow: 0 });
    try {
      for (const n of [0, 1, 2, 3, 15, 16, 17, 101]) {
        const want = expected.slice(0, n);
        assert.deepEqual(await eager.verifyBatch(jobs.slice(0, n)), want, `eager n=${n}`);
        assert.deepEqual(await pool.verifyBatch(jobs.slice(0, n)), want, `default n=${n}`);
      }
    } finally {
      await eager.close();
    }
  });

  it('runs concurrent batches independently', async () => {
    const slices = [jobs.slice(0, 100), jobs.slice(100, 250), jobs.slice(50, 300), jobs];
    const results = await Promise.all(slices.map((s) => pool.verifyBatch(s)));
    assert.deepEqual(results, [
      expected.slice(0, 100),
      expected.slice(100, 250),
      expected.slice(50, 300),
      expected,
    ]);
  });

  it('workers: 0 verifies on the calling thread', async () => {
    const none = await ParallelVerifier.init({ workers: 0 });
    assert.equal(none.workerCount, 0);
    assert.deepEqual(await none.verifyBatch(jobs), expected);
    await none.close();
  });

  it('close() rejects outstanding and later batches and stops every worker', async () => {
    const closing = await ParallelVerifier.init({ workers: 2, inlineBelow: 0 });
    const outstanding = assert.rejects(
      closing.verifyBatch(jobs),
      errorWithCode('VERIFY_POOL_CLOSED'),
    );
    // While a batch is out, the workers hold the process open.
    assert.ok(workerHandles() > handlesBefore);
    await closing.close();
    await outstanding;
    await assert.rejects(closing.verifyBatch(jobs), errorWithCode('VERIFY_POOL_CLOSED'));
    await closing.close(); // idempotent
    assert.equal(closing.workerCount, 0);
    // Nothing left that holds the process open (the shared pool of the other
    // tests is idle, hence unref'd and not counted).
    assert.equal(workerHandles(), handlesBefore);
  });

  it('rejects the batch of a worker that dies, then carries on without it', async () => {
    const reported: VerifyPoolError[] = [];
    const dying = await ParallelVerifier.init({
      workers: 2,
      inlineBelow: 0,
      workerUrl: fakeWorker('process.exit(3);'),
      onWorkerError: (e) => reported.push(e),
    });
    try {
      await assert.rejects(dying.verifyBatch(jobs), errorWithCode('VERIFY_WORKER_FAILED'));
      // Both fake workers exit on their first request.
      while (dying.workerCount > 0) await new Promise((r) => setTimeout(r, 5));
      assert.equal(reported.length, 2);
      assert.match(reported[0]!.message, /exited with code 3/);
      // With no worker left it degrades to the calling thread rather than failing.
      assert.deepEqual(await dying.verifyBatch(jobs), expected);
    } finally {
      await dying.close();
    }
  });

  it('a worker that never gets to the batch leaves it to the calling thread', async () => {
    // Stands for a worker starved of CPU by other processes: it claims nothing.
    const stuck = await ParallelVerifier.init({
      workers: 2,
      inlineBelow: 0,
      workerUrl: fakeWorker('', '', false),
    });
    try {
      assert.deepEqual(await stuck.verifyBatch(jobs), expected);
      assert.deepEqual(await stuck.verifyBatch(jobs.slice(0, 5)), expected.slice(0, 5));
      assert.equal(stuck.workerCount, 2);
    } finally {
      await stuck.close();
    }
  });

  it('rejects a batch whose worker throws', async () => {
    const throwing = await ParallelVerifier.init({
      workers: 1,
      inlineBelow: 0,
      workerUrl: fakeWorker("throw new Error('boom');"),
    });
    try {
      await assert.rejects(throwing.verifyBatch(jobs), (err: unknown) => {
        errorWithCode('VERIFY_WORKER_FAILED')(err);
        assert.match((err as Error).message, /boom/);
        return true;
      });
    } finally {
      await throwing.close();
    }
  });

  it('init fails with a typed error when a worker cannot start', async () => {
    await assert.rejects(
      ParallelVerifier.init({ workers: 2, workerUrl: fakeWorker('', "throw new Error('no');") }),
      errorWithCode('VERIFY_WORKER_FAILED'),
    );
    const silent = new URL(
      `data:text/javascript,${encodeURIComponent('setInterval(() => {}, 1000);')}`,
    );
    await assert.rejects(
      ParallelVerifier.init({ workers: 1, workerUrl: silent, startupTimeoutMs: 200 }),
      (err: unknown) => errorWithCode('VERIFY_WORKER_FAILED')(err) && /not ready/.test(String(err)),
    );
  });

  it('rejects bad options with a typed error', async () => {
    for (const opts of [{ workers: -1 }, { workers: 1.5 }, { workers: 1, inlineBelow: -2 }]) {
      await assert.rejects(ParallelVerifier.init(opts), errorWithCode('VERIFY_POOL_CONFIG'));
    }
  });
});
