import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '../crypto/hash.ts';
import { SignatureCache } from '../crypto/sig-cache.ts';
import { getPublicKey, sign } from '../crypto/signer.ts';
import { bestVerifier } from '../crypto/verifier.ts';
import { VerificationError } from './errors.ts';
import { type BatchVerifier, type LocatedSignatureJob, SignatureChecker } from './signatures.ts';

const key = sha256(Uint8Array.of(7));
const pub = getPublicKey(key);
const txid = sha256(Uint8Array.of(1));

function job(i: number, valid: boolean): LocatedSignatureJob {
  const msg = sha256(Uint8Array.of(i, 42));
  const sig = sign(msg, key);
  if (!valid) sig[5]! ^= 1;
  return { msg, sig, pub, txid, inputIndex: i };
}

/** The real inline verifier, counting the signatures it is asked to check. */
function countingVerifier(): BatchVerifier & { checked: number } {
  const inline = bestVerifier();
  const v = {
    checked: 0,
    async verifyBatch(jobs: readonly LocatedSignatureJob[]) {
      v.checked += jobs.length;
      return jobs.map((j) => inline.verify(j.msg, j.sig, j.pub));
    },
  };
  return v;
}

describe('SignatureChecker.preverify', () => {
  it('caches what passes, so check costs no verification after it', async () => {
    const verifier = countingVerifier();
    const checker = new SignatureChecker({
      verifier,
      cache: new SignatureCache({ maxEntries: 100 }),
    });
    const jobs = [job(0, true), job(1, true)];
    await checker.preverify(jobs);
    assert.equal(verifier.checked, 2);
    await checker.check(jobs);
    assert.equal(verifier.checked, 2);
  });

  it('judges nothing: a bad signature is reported by check, naming its input', async () => {
    const verifier = countingVerifier();
    const checker = new SignatureChecker({
      verifier,
      cache: new SignatureCache({ maxEntries: 100 }),
    });
    const jobs = [job(0, true), job(1, false)];
    await checker.preverify(jobs);
    await assert.rejects(
      checker.check(jobs),
      (e: unknown) =>
        e instanceof VerificationError &&
        e.code === 'TX_BAD_SIGNATURE' &&
        e.details['inputIndex'] === 1,
    );
    // Only the failing one was verified twice.
    assert.equal(verifier.checked, 3);
  });

  it('does nothing without a cache', async () => {
    const verifier = countingVerifier();
    const checker = new SignatureChecker({ verifier, cache: null });
    await checker.preverify([job(0, true)]);
    assert.equal(verifier.checked, 0);
  });
});
