import { DecodeError, decodeExact, type Reader, Writer } from '../../encoding/index.ts';
import { HASH_SIZE, SIGNATURE_SIZE, VoteType, voteDigest } from '../../primitives/index.ts';
import { compareBytes } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import type { SignatureJob } from '../signatures.ts';
import { readConsensusKey } from './payload.ts';

/**
 * Two signed votes of one consensus key for the same height, round and type
 * but different blocks. Canonical: `blockHashA` sorts strictly before
 * `blockHashB`, so one equivocation has exactly one encoding (and one id).
 */
export interface DuplicateVoteEvidence {
  readonly voteType: VoteType;
  readonly height: number;
  readonly round: number;
  readonly consensusKey: Uint8Array;
  readonly blockHashA: Uint8Array;
  readonly signatureA: Uint8Array;
  readonly blockHashB: Uint8Array;
  readonly signatureB: Uint8Array;
}

export const EVIDENCE_BYTES = 1 + 4 + 4 + 33 + 2 * (HASH_SIZE + SIGNATURE_SIZE);

export function encodeEvidence(e: DuplicateVoteEvidence): Uint8Array {
  const w = new Writer(EVIDENCE_BYTES);
  w.u8(e.voteType).u32(e.height).u32(e.round).bytes(e.consensusKey);
  w.bytes(e.blockHashA).bytes(e.signatureA).bytes(e.blockHashB).bytes(e.signatureB);
  return w.finish();
}

export function readEvidence(r: Reader): DuplicateVoteEvidence {
  const voteType = r.u8('voteType');
  if (voteType !== VoteType.prevote && voteType !== VoteType.precommit) {
    throw new DecodeError('invalid-value', r.what, { field: 'voteType', value: voteType });
  }
  const evidence = {
    voteType,
    height: r.u32('height'),
    round: r.u32('round'),
    consensusKey: readConsensusKey(r, 'consensusKey'),
    blockHashA: r.bytes(HASH_SIZE, 'blockHashA'),
    signatureA: r.bytes(SIGNATURE_SIZE, 'signatureA'),
    blockHashB: r.bytes(HASH_SIZE, 'blockHashB'),
    signatureB: r.bytes(SIGNATURE_SIZE, 'signatureB'),
  } as DuplicateVoteEvidence;
  if (compareBytes(evidence.blockHashA, evidence.blockHashB) >= 0) {
    throw new DecodeError('invalid-value', r.what, {
      field: 'blockHashB',
      reason: 'block hashes not in strictly increasing order',
    });
  }
  return evidence;
}

/** Strict decoding of untrusted evidence bytes: EVIDENCE_MALFORMED on any fault. */
export function decodeEvidence(bytes: Uint8Array): DuplicateVoteEvidence {
  if (bytes.length !== EVIDENCE_BYTES) {
    throw new VerificationError('EVIDENCE_MALFORMED', `${bytes.length} bytes`);
  }
  try {
    return decodeExact(bytes, 'duplicate-vote evidence', readEvidence);
  } catch (error) {
    if (error instanceof DecodeError)
      throw new VerificationError('EVIDENCE_MALFORMED', error.message);
    throw error;
  }
}

/** The two vote signatures the evidence carries, for the caller's batch verifier. */
export function evidenceSignatureJobs(
  e: DuplicateVoteEvidence,
  chainIdHash: Uint8Array,
): SignatureJob[] {
  if (compareBytes(e.blockHashA, e.blockHashB) >= 0) {
    throw new VerificationError('EVIDENCE_NOT_CONFLICTING', 'the two votes are for one block');
  }
  return [
    {
      msg: voteDigest(chainIdHash, e.voteType, e.height, e.round, e.blockHashA),
      sig: e.signatureA,
      pub: e.consensusKey,
    },
    {
      msg: voteDigest(chainIdHash, e.voteType, e.height, e.round, e.blockHashB),
      sig: e.signatureB,
      pub: e.consensusKey,
    },
  ];
}

/**
 * Evidence expires only when it is older than both the block age and the
 * time age (CometBFT): a chain that stalls for days still punishes, and so
 * does a fast chain within 48 h.
 */
export function isEvidenceExpired(
  evidenceHeight: number,
  evidenceTimeMs: number,
  now: { height: number; timeMs: number },
  maxAge: { blocks: number; ms: number },
): boolean {
  return now.height - evidenceHeight > maxAge.blocks && now.timeMs - evidenceTimeMs > maxAge.ms;
}
