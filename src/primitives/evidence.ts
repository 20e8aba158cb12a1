import { DecodeError, type Reader, Writer } from '../encoding/index.ts';
import { VoteType } from './commit.ts';
import { HASH_SIZE, MAX_BLOCK_EVIDENCE, PUBKEY_SIZE, SIGNATURE_SIZE } from './limits.ts';
import { merkleRoot } from './merkle.ts';

/**
 * Two signed votes of one consensus key for the same height, round and type
 * but different blocks. Canonical: `blockHashA` sorts strictly before
 * `blockHashB`, so one equivocation has exactly one encoding (and one id).
 *
 * The encoding lives here, below consensus, because a block carries evidence;
 * the rules (signatures, the set of that height, expiry) stay in
 * src/consensus/staking, which re-exports this file.
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

export const EVIDENCE_BYTES = 1 + 4 + 4 + PUBKEY_SIZE + 2 * (HASH_SIZE + SIGNATURE_SIZE);

export function writeEvidence(w: Writer, e: DuplicateVoteEvidence): void {
  w.u8(e.voteType).u32(e.height).u32(e.round).bytes(e.consensusKey);
  w.bytes(e.blockHashA).bytes(e.signatureA).bytes(e.blockHashB).bytes(e.signatureB);
}

export function encodeEvidence(e: DuplicateVoteEvidence): Uint8Array {
  const w = new Writer(EVIDENCE_BYTES);
  writeEvidence(w, e);
  return w.finish();
}

function lessThan(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length && i < b.length; i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]!;
  }
  return a.length < b.length;
}

/**
 * Structural decoding of one piece of evidence: vote type, sizes, a key with
 * a compressed-point prefix and canonical block order. Whether the key is on
 * the curve is the consensus decoder's check (src/consensus/staking).
 */
export function readEvidence(r: Reader): DuplicateVoteEvidence {
  const voteType = r.u8('voteType');
  if (voteType !== VoteType.prevote && voteType !== VoteType.precommit) {
    throw new DecodeError('invalid-value', r.what, { field: 'voteType', value: voteType });
  }
  const height = r.u32('height');
  const round = r.u32('round');
  const consensusKey = r.bytes(PUBKEY_SIZE, 'consensusKey');
  if (consensusKey[0] !== 2 && consensusKey[0] !== 3) {
    throw new DecodeError('invalid-value', r.what, {
      field: 'consensusKey',
      reason: 'not a compressed point',
    });
  }
  const evidence: DuplicateVoteEvidence = {
    voteType,
    height,
    round,
    consensusKey,
    blockHashA: r.bytes(HASH_SIZE, 'blockHashA'),
    signatureA: r.bytes(SIGNATURE_SIZE, 'signatureA'),
    blockHashB: r.bytes(HASH_SIZE, 'blockHashB'),
    signatureB: r.bytes(SIGNATURE_SIZE, 'signatureB'),
  };
  if (!lessThan(evidence.blockHashA, evidence.blockHashB)) {
    throw new DecodeError('invalid-value', r.what, {
      field: 'blockHashB',
      reason: 'block hashes not in strictly increasing order',
    });
  }
  return evidence;
}

/**
 * A block's evidence list: a count bounded by MAX_BLOCK_EVIDENCE and checked
 * against the bytes left before any item is read, so a hostile count
 * allocates nothing.
 */
export function readEvidenceList(r: Reader): DuplicateVoteEvidence[] {
  const count = r.varint(MAX_BLOCK_EVIDENCE, 'block.evidence');
  if (count * EVIDENCE_BYTES > r.remaining) {
    throw new DecodeError('truncated', r.what, { field: 'block.evidence', count });
  }
  const list: DuplicateVoteEvidence[] = [];
  for (let i = 0; i < count; i++) list.push(readEvidence(r));
  return list;
}

/** The header's evidenceRoot: Merkle root of the encoded items (all zero when none). */
export function evidenceRoot(evidence: readonly DuplicateVoteEvidence[]): Uint8Array {
  return merkleRoot(evidence.map(encodeEvidence));
}

/** One equivocation (key, height, round, type): what is committed at most once. */
export function evidenceSlot(e: DuplicateVoteEvidence): Uint8Array {
  const w = new Writer(PUBKEY_SIZE + 9);
  w.bytes(e.consensusKey).u32(e.height).u32(e.round).u8(e.voteType);
  return w.finish();
}
