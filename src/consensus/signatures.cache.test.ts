import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '../crypto/hash.ts';
import { SignatureCache } from '../crypto/sig-cache.ts';
import { getPublicKey, sign } from '../crypto/signer.ts';
import { bestVerifier } from '../crypto/verifier.ts';
import { type BatchVerifier, type LocatedSignatureJob, SignatureChecker } from './signatures.ts';

// What the signature cache saves, counted on the real verifier: a signature
// that passed once is not verified again by check or preverify, no empty
// batch reaches the verifier, and without a cache every check verifies.

const key = sha256(Uint8Array.of(9));
const pub = getPublicKey(key);
const txid = sha256(Uint8Array.of(2));

function job(i: number): LocatedSignatureJob {
  const msg = sha256(Uint8Array.of(i, 43));
  return { msg, sig: sign(msg, key), pub, txid, inputIndex: i };
}

function countingVerifier(): BatchVerifier & { checked: number; batches: number } {
  const inline = bestVerifier();
  const v = {
    checked: 0,
    batches: 0,
    async verifyBatch(jobs: readonly LocatedSignatureJob[]) {
      v.batches++;
      v.checked += jobs.length;
      return jobs.map((j) => inline.verify(j.msg, j.sig, j.pub));
    },
  };
  return v;
}

const cached = (verifier: BatchVerifier) =>
  new SignatureChecker({ verifier, cache: new SignatureCache({ maxEntries: 100 }) });

describe('SignatureChecker: what the cache saves', () => {
  it('check remembers what passed: a second check verifies nothing', async () => {
    const verifier = countingVerifier();
    const checker = cached(verifier);
    await checker.check([job(0), job(1)]);
    assert.deepEqual([verifier.checked, verifier.batches], [2, 1]);
    await checker.check([job(0), job(1)]);
    assert.deepEqual([verifier.checked, verifier.batches], [2, 1]);
    // Only the new one is verified.
    await checker.check([job(0), job(2)]);
    assert.deepEqual([verifier.checked, verifier.batches], [3, 2]);
  });

  it('preverify skips what is cached and sends no empty batch', async () => {
    const verifier = countingVerifier();
    const checker = cached(verifier);
    await checker.preverify([job(0)]);
    await checker.preverify([job(0), job(1)]);
    assert.deepEqual([verifier.checked, verifier.batches], [2, 2]);
    await checker.preverify([job(0), job(1)]);
    await checker.check([]);
    assert.deepEqual([verifier.checked, verifier.batches], [2, 2]);
  });

  it('without a cache, every check verifies every signature', async () => {
    const verifier = countingVerifier();
    const checker = new SignatureChecker({ verifier, cache: null });
    await checker.check([job(0), job(1)]);
    await checker.check([job(0), job(1)]);
    assert.deepEqual([verifier.checked, verifier.batches], [4, 2]);
    await checker.check([]);
    assert.equal(verifier.batches, 2);
  });
});
