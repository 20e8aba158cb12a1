import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testKey } from '../../test/support/chain-fixture.ts';
import { CommitCertificate } from '../primitives/index.ts';
import { VerificationError } from './errors.ts';
import { ValidatorSet } from './validator-set.ts';

test('a certificate cannot count one validator twice towards the quorum', () => {
  const set = new ValidatorSet(
    [1, 2, 3].map((n) => ({ publicKey: testKey(n).publicKey, power: 10n })),
  );
  const blockHash = new Uint8Array(32).fill(7);
  const chainIdHash = new Uint8Array(32).fill(1);
  const signature = new Uint8Array(64).fill(9);
  // Built in process, so the decoder's ordering check never sees it.
  const repeated = new CommitCertificate({
    height: 5,
    round: 0,
    blockHash,
    signatures: [0, 0, 0].map((validatorIndex) => ({ validatorIndex, signature })),
  });
  assert.throws(
    () => set.commitSignatureJobs(repeated, 5, blockHash, chainIdHash),
    (e: unknown) => e instanceof VerificationError && e.code === 'BLOCK_BAD_LAST_COMMIT',
  );
  const distinct = new CommitCertificate({
    height: 5,
    round: 0,
    blockHash,
    signatures: [0, 1, 2].map((validatorIndex) => ({ validatorIndex, signature })),
  });
  assert.equal(set.commitSignatureJobs(distinct, 5, blockHash, chainIdHash).length, 3);
});
