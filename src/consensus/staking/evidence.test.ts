/**
 * Strict decoding of duplicate-vote evidence from a peer or a block: one
 * encoding per equivocation, so every other byte string is EVIDENCE_MALFORMED
 * (penalty 100), each case one fault away from valid evidence.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stakingKey } from '../../../test/support/staking-fixture.ts';
import { VoteType } from '../../primitives/commit.ts';
import { VerificationError } from '../errors.ts';
import {
  type DuplicateVoteEvidence,
  decodeEvidence,
  EVIDENCE_BYTES,
  encodeEvidence,
} from './evidence.ts';

const base: DuplicateVoteEvidence = {
  voteType: VoteType.precommit,
  height: 0xffff_fffe,
  round: 0xffff_ffff,
  consensusKey: stakingKey('evidence decoding').publicKey,
  blockHashA: new Uint8Array(32).fill(1),
  signatureA: new Uint8Array(64).fill(3),
  blockHashB: new Uint8Array(32).fill(2),
  signatureB: new Uint8Array(64).fill(4),
};

function malformed(bytes: Uint8Array): void {
  assert.throws(
    () => decodeEvidence(bytes),
    (error: unknown) => {
      assert.ok(error instanceof VerificationError, String(error));
      assert.equal(error.code, 'EVIDENCE_MALFORMED');
      assert.equal(error.penalty, 100);
      return true;
    },
  );
}

describe('duplicate-vote evidence decoding', () => {
  it('round-trips both vote types and full 32-bit heights and rounds', () => {
    for (const voteType of [VoteType.prevote, VoteType.precommit]) {
      const e = { ...base, voteType };
      const bytes = encodeEvidence(e);
      assert.equal(bytes.length, EVIDENCE_BYTES);
      assert.deepEqual(decodeEvidence(bytes), e);
    }
  });

  it('refuses one byte more or less, vote types 0 and 3, and two equal block hashes', () => {
    const bytes = encodeEvidence(base);
    malformed(Uint8Array.of(...bytes, 0));
    malformed(bytes.subarray(0, EVIDENCE_BYTES - 1));
    for (const type of [0, 3]) {
      const wrong = new Uint8Array(bytes);
      wrong[0] = type;
      malformed(wrong);
    }
    malformed(encodeEvidence({ ...base, blockHashB: base.blockHashA }));
  });

  it('refuses a consensus key that is not a compressed curve point', () => {
    const bytes = encodeEvidence(base);
    const offCurve = new Uint8Array(bytes);
    offCurve.set(Uint8Array.of(2, ...new Uint8Array(32).fill(0xff)), 9);
    malformed(offCurve);
  });
});
