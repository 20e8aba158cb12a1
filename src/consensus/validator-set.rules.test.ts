import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { testKey } from '../../test/support/chain-fixture.ts';
import { Tag, taggedHash } from '../crypto/index.ts';
import { Writer } from '../encoding/index.ts';
import { CommitCertificate } from '../primitives/index.ts';
import { compareBytes } from '../util/index.ts';
import { VerificationError } from './errors.ts';
import { ValidatorSet } from './validator-set.ts';

// The finality threshold at its boundary (strictly more than two thirds of
// the power) and the validator-set hash byte for byte. Found by the CI
// mutation sample: `>` replaced by `>=` in hasQuorum survived every test.

const set = (powers: bigint[]) =>
  new ValidatorSet(powers.map((power, i) => ({ publicKey: testKey(i + 1).publicKey, power })));

describe('validator set: quorum', () => {
  it('needs strictly more than two thirds of the power', () => {
    const thirty = set([10n, 10n, 10n]);
    assert.equal(thirty.hasQuorum(20n), false); // exactly 2/3
    assert.equal(thirty.hasQuorum(21n), true);
    assert.equal(thirty.hasQuorum(30n), true);
    const three = set([1n, 1n, 1n]);
    assert.equal(three.hasQuorum(2n), false);
    assert.equal(three.hasQuorum(3n), true);
    // 2/3 of 31 is 20.67: 20 is not enough, 21 is.
    const odd = set([10n, 10n, 10n, 1n]);
    assert.equal(odd.hasQuorum(20n), false);
    assert.equal(odd.hasQuorum(21n), true);
  });

  it('refuses a commit certificate signed by exactly two thirds of the power', () => {
    const validators = set([10n, 10n, 10n]);
    const blockHash = new Uint8Array(32).fill(7);
    const chainIdHash = new Uint8Array(32).fill(1);
    const signature = new Uint8Array(64).fill(9);
    const signedBy = (indexes: number[]) =>
      new CommitCertificate({
        height: 5,
        round: 0,
        blockHash,
        signatures: indexes.map((validatorIndex) => ({ validatorIndex, signature })),
      });
    assert.throws(
      () => validators.commitSignatureJobs(signedBy([0, 2]), 5, blockHash, chainIdHash),
      (e: unknown) => e instanceof VerificationError && e.code === 'BLOCK_BAD_LAST_COMMIT',
    );
    assert.equal(
      validators.commitSignatureJobs(signedBy([0, 1, 2]), 5, blockHash, chainIdHash).length,
      3,
    );
  });
});

describe('validator set: hash', () => {
  it('hashes the count, then each key and power in key order', () => {
    const members = [3, 1, 2].map((n) => ({ publicKey: testKey(n).publicKey, power: BigInt(n) }));
    const w = new Writer().varint(3);
    for (const v of [...members].sort((a, b) => compareBytes(a.publicKey, b.publicKey))) {
      w.bytes(v.publicKey).u64(v.power);
    }
    const validators = new ValidatorSet(members);
    assert.deepEqual(validators.hash, taggedHash(Tag.validatorSet, w.finish()));
    assert.equal(validators.totalPower, 6n);
    const more = new ValidatorSet(members.map((m, i) => (i === 0 ? { ...m, power: 4n } : m)));
    assert.notDeepEqual(more.hash, validators.hash);
  });
});
