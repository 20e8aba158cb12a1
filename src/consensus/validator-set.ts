import { Tag, taggedHash } from '../crypto/index.ts';
import { Writer } from '../encoding/index.ts';
import { type CommitCertificate, VoteType, voteDigest } from '../primitives/index.ts';
import { bytesEqual, compareBytes, toHex, UtxodError } from '../util/index.ts';
import { VerificationError } from './errors.ts';
import type { SignatureJob } from './signatures.ts';

export interface Validator {
  readonly publicKey: Uint8Array;
  readonly power: bigint;
}

export class ValidatorSetError extends UtxodError<'INVALID_VALIDATOR_SET'> {
  constructor(reason: string) {
    super('INVALID_VALIDATOR_SET', `invalid validator set: ${reason}`);
  }
}

/**
 * The validators of one height, sorted by public key so that a validator's
 * index (used in commit certificates) is the same on every node.
 */
export class ValidatorSet {
  readonly validators: readonly Validator[];
  readonly totalPower: bigint;
  readonly hash: Uint8Array;

  constructor(validators: readonly Validator[]) {
    if (validators.length === 0) throw new ValidatorSetError('empty');
    const sorted = [...validators].sort((a, b) => compareBytes(a.publicKey, b.publicKey));
    let total = 0n;
    sorted.forEach((v, i) => {
      if (v.power <= 0n)
        throw new ValidatorSetError(`validator ${toHex(v.publicKey)} has power ${v.power}`);
      if (i > 0 && bytesEqual(sorted[i - 1]!.publicKey, v.publicKey)) {
        throw new ValidatorSetError(`duplicate validator ${toHex(v.publicKey)}`);
      }
      total += v.power;
    });
    this.validators = sorted;
    this.totalPower = total;
    const w = new Writer(8 + sorted.length * 41).varint(sorted.length);
    for (const v of sorted) w.bytes(v.publicKey).u64(v.power);
    this.hash = taggedHash(Tag.validatorSet, w.finish());
  }

  indexOf(publicKey: Uint8Array): number {
    return this.validators.findIndex((v) => bytesEqual(v.publicKey, publicKey));
  }

  /** Power strictly above two thirds of the total: what makes a block final. */
  hasQuorum(power: bigint): boolean {
    return power * 3n > this.totalPower * 2n;
  }

  /**
   * Structural check of a commit certificate for (`height`, `blockHash`):
   * known signers, more than 2/3 of the power. Returns the signature jobs that
   * the caller must verify (in a batch, with the block's other signatures).
   */
  commitSignatureJobs(
    commit: CommitCertificate,
    height: number,
    blockHash: Uint8Array,
    chainIdHash: Uint8Array,
  ): SignatureJob[] {
    if (commit.height !== height || !bytesEqual(commit.blockHash, blockHash)) {
      throw new VerificationError(
        'BLOCK_BAD_LAST_COMMIT',
        `commit is for another block than ${height}`,
        {
          commitHeight: commit.height,
        },
      );
    }
    const digest = voteDigest(
      chainIdHash,
      VoteType.precommit,
      commit.height,
      commit.round,
      commit.blockHash,
    );
    let power = 0n;
    const jobs: SignatureJob[] = [];
    let previousIndex = -1;
    for (const { validatorIndex, signature } of commit.signatures) {
      // The decoder enforces this for certificates from the wire; certificates built
      // in process (the BFT engine's) must not count one validator's power twice either.
      if (validatorIndex <= previousIndex) {
        throw new VerificationError(
          'BLOCK_BAD_LAST_COMMIT',
          `validator index ${validatorIndex} repeated or out of order`,
        );
      }
      previousIndex = validatorIndex;
      const validator = this.validators[validatorIndex];
      if (validator === undefined) {
        throw new VerificationError(
          'BLOCK_BAD_LAST_COMMIT',
          `unknown validator index ${validatorIndex}`,
        );
      }
      power += validator.power;
      jobs.push({ msg: digest, sig: signature, pub: validator.publicKey });
    }
    if (!this.hasQuorum(power)) {
      throw new VerificationError(
        'BLOCK_BAD_LAST_COMMIT',
        `commit has ${power} of ${this.totalPower} voting power`,
      );
    }
    return jobs;
  }
}
