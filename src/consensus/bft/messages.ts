/**
 * Wire format of the BFT engine's messages (proposals, votes, evidence), used
 * by gossip, catch-up and the WAL alike. Decoding is strict and size-bounded
 * and happens before any signature check. Same conventions as
 * docs/protocol.md; docs/consensus.md lists the fields.
 */
import { DecodeError, decodeExact, type Reader, Writer } from '../../encoding/index.ts';
import {
  Block,
  HASH_SIZE,
  MAX_BLOCK_BYTES,
  NO_POL_ROUND,
  SIGNATURE_SIZE,
} from '../../primitives/index.ts';

export { NO_POL_ROUND };

function checkSize(bytes: Uint8Array, max: number, what: string): void {
  if (bytes.length > max) throw new DecodeError('too-large', what, { size: bytes.length, max });
}

export interface VoteMessage {
  /** 1 prevote, 2 precommit (VoteType). */
  readonly type: 1 | 2;
  readonly height: number;
  readonly round: number;
  /** 32 zero bytes = a vote for nil. */
  readonly blockHash: Uint8Array;
  readonly validatorIndex: number;
  /** Signature of voteDigest(chainIdHash, type, height, round, blockHash). */
  readonly signature: Uint8Array;
}

export interface ProposalMessage {
  readonly height: number;
  readonly round: number;
  /** NO_POL_ROUND when none. */
  readonly polRound: number;
  readonly block: Block;
  readonly proposerIndex: number;
  /** The proposer's signature (defined by the engine) over height, round, polRound and block hash. */
  readonly signature: Uint8Array;
}

export interface EvidenceMessage {
  /** 1 = duplicate vote: two different votes of one validator for one height/round/type. */
  readonly kind: 1;
  readonly voteA: VoteMessage;
  readonly voteB: VoteMessage;
}

export const VOTE_BYTES = 1 + 4 + 4 + HASH_SIZE + 2 + SIGNATURE_SIZE;
export const PROPOSAL_MAX_BYTES = 4 + 4 + 4 + 5 + MAX_BLOCK_BYTES + 2 + SIGNATURE_SIZE;
export const EVIDENCE_MAX_BYTES = 1 + 2 * VOTE_BYTES;

function writeVote(w: Writer, vote: VoteMessage): void {
  w.u8(vote.type)
    .u32(vote.height)
    .u32(vote.round)
    .bytes(vote.blockHash)
    .u16(vote.validatorIndex)
    .bytes(vote.signature);
}

function readVote(r: Reader): VoteMessage {
  const type = r.u8('vote.type');
  if (type !== 1 && type !== 2) {
    throw new DecodeError('invalid-value', r.what, { field: 'vote.type', value: type });
  }
  return {
    type,
    height: r.u32('vote.height'),
    round: r.u32('vote.round'),
    blockHash: r.bytes(HASH_SIZE, 'vote.blockHash'),
    validatorIndex: r.u16('vote.validatorIndex'),
    signature: r.bytes(SIGNATURE_SIZE, 'vote.signature'),
  };
}

export function encodeVote(vote: VoteMessage): Uint8Array {
  const w = new Writer(VOTE_BYTES);
  writeVote(w, vote);
  return w.finish();
}

export function decodeVote(bytes: Uint8Array): VoteMessage {
  checkSize(bytes, VOTE_BYTES, 'vote');
  return decodeExact(bytes, 'vote', readVote);
}

export function encodeProposal(p: ProposalMessage): Uint8Array {
  const block = p.block.encode();
  return new Writer(block.length + 96)
    .u32(p.height)
    .u32(p.round)
    .u32(p.polRound)
    .varBytes(block)
    .u16(p.proposerIndex)
    .bytes(p.signature)
    .finish();
}

export function decodeProposal(bytes: Uint8Array): ProposalMessage {
  checkSize(bytes, PROPOSAL_MAX_BYTES, 'proposal');
  return decodeExact(bytes, 'proposal', (r) => {
    const height = r.u32('proposal.height');
    const round = r.u32('proposal.round');
    const polRound = r.u32('proposal.polRound');
    if (polRound !== NO_POL_ROUND && polRound >= round) {
      throw new DecodeError('invalid-value', r.what, { field: 'proposal.polRound' });
    }
    const block = Block.decode(r.varBytes(MAX_BLOCK_BYTES, 'proposal.block'));
    if (block.height !== height) {
      throw new DecodeError('invalid-value', r.what, { field: 'proposal.block.height' });
    }
    return {
      height,
      round,
      polRound,
      block,
      proposerIndex: r.u16('proposal.proposerIndex'),
      signature: r.bytes(SIGNATURE_SIZE, 'proposal.signature'),
    };
  });
}

export function encodeEvidence(e: EvidenceMessage): Uint8Array {
  const w = new Writer(EVIDENCE_MAX_BYTES).u8(e.kind);
  writeVote(w, e.voteA);
  writeVote(w, e.voteB);
  return w.finish();
}

export function decodeEvidence(bytes: Uint8Array): EvidenceMessage {
  checkSize(bytes, EVIDENCE_MAX_BYTES, 'evidence');
  return decodeExact(bytes, 'evidence', (r) => {
    const kind = r.u8('evidence.kind');
    if (kind !== 1) throw new DecodeError('invalid-value', r.what, { field: 'evidence.kind' });
    const voteA = readVote(r);
    const voteB = readVote(r);
    if (
      voteA.type !== voteB.type ||
      voteA.height !== voteB.height ||
      voteA.round !== voteB.round ||
      voteA.validatorIndex !== voteB.validatorIndex
    ) {
      throw new DecodeError('invalid-value', r.what, {
        field: 'evidence.votes',
        reason: 'not the same slot',
      });
    }
    let same = true;
    for (let i = 0; i < HASH_SIZE; i++) if (voteA.blockHash[i] !== voteB.blockHash[i]) same = false;
    if (same)
      throw new DecodeError('invalid-value', r.what, {
        field: 'evidence.votes',
        reason: 'same block',
      });
    return { kind: 1, voteA, voteB };
  });
}
