import { DecodeError, decodeExact, type Reader } from '../../encoding/index.ts';
import {
  type DuplicateVoteEvidence,
  EVIDENCE_BYTES,
  readEvidence as readEvidenceShape,
  voteDigest,
} from '../../primitives/index.ts';
import { compareBytes } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import type { SignatureJob } from '../signatures.ts';
import { isValidPublicKey } from './payload.ts';

// The encoding lives in primitives, because a block carries evidence; one
// encoder, re-exported here with the strict (on-curve key) decoder.
export {
  type DuplicateVoteEvidence,
  EVIDENCE_BYTES,
  encodeEvidence,
  evidenceRoot,
  evidenceSlot,
} from '../../primitives/index.ts';

/** `readEvidence` of primitives, and the key must be a point on the curve. */
export function readEvidence(r: Reader): DuplicateVoteEvidence {
  const evidence = readEvidenceShape(r);
  if (!isValidPublicKey(evidence.consensusKey)) {
    throw new DecodeError('invalid-value', r.what, {
      field: 'consensusKey',
      reason: 'not a compressed point',
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
