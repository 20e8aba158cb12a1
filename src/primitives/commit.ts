import { Tag, taggedHash } from '../crypto/index.ts';
import { DecodeError, decodeExact, type Reader, Writer } from '../encoding/index.ts';
import { HASH_SIZE, MAX_COMMIT_SIGNATURES, SIGNATURE_SIZE } from './limits.ts';

export const VoteType = { prevote: 1, precommit: 2 } as const;
export type VoteType = (typeof VoteType)[keyof typeof VoteType];

/** What a validator signs when it votes: bound to the chain, height, round and block. */
export function voteDigest(
  chainIdHash: Uint8Array,
  type: VoteType,
  height: number,
  round: number,
  blockHash: Uint8Array,
): Uint8Array {
  const w = new Writer(32 + 1 + 8 + 32);
  w.bytes(chainIdHash).u8(type).u32(height).u32(round).bytes(blockHash);
  return taggedHash(Tag.vote, w.finish());
}

/** polRound value meaning "no proof-of-lock round" in a proposal (on the wire and in the digest). */
export const NO_POL_ROUND = 0xffffffff;

/** What a proposer signs: bound to the chain, height, round, proof-of-lock round and block. */
export function proposalDigest(
  chainIdHash: Uint8Array,
  height: number,
  round: number,
  polRound: number,
  blockHash: Uint8Array,
): Uint8Array {
  const w = new Writer(32 + 12 + 32);
  w.bytes(chainIdHash).u32(height).u32(round).u32(polRound).bytes(blockHash);
  return taggedHash(Tag.proposal, w.finish());
}

export interface CommitSignature {
  /** Index into the validator set of the committed height (sorted by address). */
  readonly validatorIndex: number;
  readonly signature: Uint8Array;
}

/**
 * Precommits from validators holding more than 2/3 of the voting power for
 * `blockHash` at `height`: the proof that the block is final. Block h+1 carries
 * the certificate of block h. Signatures are sorted by strictly increasing
 * validator index, so a certificate has one encoding and no duplicate signer.
 */
export class CommitCertificate {
  readonly height: number;
  readonly round: number;
  readonly blockHash: Uint8Array;
  readonly signatures: readonly CommitSignature[];

  constructor(fields: {
    height: number;
    round: number;
    blockHash: Uint8Array;
    signatures: readonly CommitSignature[];
  }) {
    this.height = fields.height;
    this.round = fields.round;
    this.blockHash = fields.blockHash;
    this.signatures = fields.signatures;
  }

  /** The certificate carried by block 1: genesis is final by definition and signed by nobody. */
  static empty(genesisHash: Uint8Array): CommitCertificate {
    return new CommitCertificate({ height: 0, round: 0, blockHash: genesisHash, signatures: [] });
  }

  get hash(): Uint8Array {
    return taggedHash(Tag.commit, this.encode());
  }

  encode(): Uint8Array {
    const w = new Writer(48 + this.signatures.length * 66);
    this.write(w);
    return w.finish();
  }

  write(w: Writer): void {
    w.u32(this.height).u32(this.round).bytes(this.blockHash).varint(this.signatures.length);
    for (const s of this.signatures) w.u16(s.validatorIndex).bytes(s.signature);
  }

  static decode(bytes: Uint8Array): CommitCertificate {
    return decodeExact(bytes, 'commit certificate', readCommit);
  }
}

export function readCommit(r: Reader): CommitCertificate {
  const height = r.u32('commit.height');
  const round = r.u32('commit.round');
  const blockHash = r.bytes(HASH_SIZE, 'commit.blockHash');
  const count = r.varint(MAX_COMMIT_SIGNATURES, 'commit.signatures');
  const signatures: CommitSignature[] = [];
  let previousIndex = -1;
  for (let i = 0; i < count; i++) {
    const validatorIndex = r.u16('commit.validatorIndex');
    if (validatorIndex <= previousIndex) {
      throw new DecodeError('invalid-value', r.what, {
        field: 'commit.validatorIndex',
        reason: 'not strictly increasing',
      });
    }
    previousIndex = validatorIndex;
    signatures.push({ validatorIndex, signature: r.bytes(SIGNATURE_SIZE, 'commit.signature') });
  }
  return new CommitCertificate({ height, round, blockHash, signatures });
}
