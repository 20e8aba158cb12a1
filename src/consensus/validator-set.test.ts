import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testKey } from '../../test/support/chain-fixture.ts';
import { CommitCertificate } from '../primitives/index.ts';
import { VerificationError } from './errors.ts';
import { ValidatorSet, ValidatorSetError } from './validator-set.ts';

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

test('a set is non-empty, of positive powers, without duplicates, and its order and hash do not depend on the input order', () => {
  const [a, b, c] = [1, 2, 3].map((n) => ({ publicKey: testKey(n).publicKey, power: 10n }));
  const invalid = (validators: ConstructorParameters<typeof ValidatorSet>[0], why: RegExp) =>
    assert.throws(
      () => new ValidatorSet(validators),
      (e) =>
        e instanceof ValidatorSetError && e.code === 'INVALID_VALIDATOR_SET' && why.test(e.message),
    );
  invalid([], /empty/);
  invalid([a!, { ...b!, power: 0n }], /power 0/);
  invalid([a!, { ...b!, power: -1n }], /power -1/);
  invalid([a!, b!, { ...a!, power: 5n }], /duplicate/);
  // Power 1 is the least allowed.
  assert.equal(new ValidatorSet([{ ...a!, power: 1n }]).totalPower, 1n);
  const forward = new ValidatorSet([a!, b!, c!]);
  const backward = new ValidatorSet([c!, b!, a!]);
  assert.deepEqual(
    backward.validators.map((v) => v.publicKey),
    forward.validators.map((v) => v.publicKey),
  );
  assert.deepEqual(backward.hash, forward.hash);
  const sortedKeys = [a!, b!, c!].map((v) => Buffer.from(v.publicKey).toString('hex')).sort();
  assert.deepEqual(
    forward.validators.map((v) => Buffer.from(v.publicKey).toString('hex')),
    sortedKeys,
  );
  assert.equal(forward.totalPower, 30n);
  // A different power is a different set.
  assert.notDeepEqual(new ValidatorSet([a!, b!, { ...c!, power: 11n }]).hash, forward.hash);
});
