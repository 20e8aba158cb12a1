import {
  type ConsensusParams,
  type DuplicateVoteEvidence,
  EVIDENCE_BYTES,
  evidenceSignatureJobs,
  evidenceSlot,
  isValidPublicKey,
  type SignatureChecker,
  type SignatureJob,
  type StakingBlock,
  type ValidatorSet,
  VerificationError,
} from '../consensus/index.ts';
import type { Block } from '../primitives/index.ts';
import { StateKeys, type StateOverlay, type StateReader } from '../state/index.ts';
import { bytesEqual, bytesKey, toHex } from '../util/index.ts';

/**
 * What checking committed evidence needs from the chain below the tip: the
 * set that signed a past height (the node's set history) and a stored
 * block's header time (for expiry). The state store keeps neither that far back.
 */
export interface EvidenceHistory {
  validatorsAt(height: number): ValidatorSet;
  /** Header time of block `height`; undefined if this node does not hold it (snapshot start). */
  blockTimeAt(height: number): Promise<number | undefined>;
}

/** The cheap checks that bind a block's evidence to its header: the bytes bound and the root. */
export function checkEvidenceBinding(block: Block, params: ConsensusParams): void {
  const bytes = block.evidence.length * EVIDENCE_BYTES;
  if (bytes > params.staking.maxBlockEvidenceBytes) {
    throw new VerificationError(
      'BLOCK_EVIDENCE_TOO_LARGE',
      `${bytes} bytes of evidence > ${params.staking.maxBlockEvidenceBytes}`,
    );
  }
  if (!bytesEqual(block.computeEvidenceRoot(), block.header.evidenceRoot))
    throw new VerificationError('BLOCK_BAD_EVIDENCE_ROOT', 'evidence Merkle root mismatch');
}

export async function isEvidenceCommitted(
  state: StateReader,
  e: DuplicateVoteEvidence,
): Promise<boolean> {
  return (await state.get(StateKeys.committedEvidence(evidenceSlot(e)))) !== undefined;
}

/**
 * Applies a block's evidence in block order (docs/staking.md "Evidence"):
 * each piece is of an equivocation not committed before nor twice here, by
 * a key of the set that signed its height, not expired, of a validator not
 * yet tombstoned; it slashes and tombstones that validator and is recorded
 * as committed in the state (so its stateRoot covers it, and rollback undoes
 * it). Returns the vote signatures to verify with the block's others.
 *
 * With `dropInvalid` (the block assembler) a piece that breaks a rule is
 * left out and its index reported instead of failing the block.
 */
export async function applyBlockEvidence(
  staking: StakingBlock,
  overlay: StateOverlay,
  evidence: readonly DuplicateVoteEvidence[],
  ctx: {
    readonly height: number;
    readonly chainIdHash: Uint8Array;
    readonly history: EvidenceHistory;
  },
  opts: { readonly dropInvalid?: boolean } = {},
): Promise<{ jobs: SignatureJob[]; dropped: Set<number> }> {
  const jobs: SignatureJob[] = [];
  const dropped = new Set<number>();
  const seen = new Set<string>();
  for (const [i, e] of evidence.entries()) {
    try {
      const slot = evidenceSlot(e);
      if (seen.has(bytesKey(slot)) || (await isEvidenceCommitted(overlay, e))) {
        throw new VerificationError(
          'BLOCK_EVIDENCE_DUPLICATE',
          `evidence ${i} (key ${toHex(e.consensusKey)}, height ${e.height}) is already committed`,
        );
      }
      jobs.push(...(await checkOne(staking, e, ctx)));
      overlay.put(StateKeys.committedEvidence(slot), heightBytes(ctx.height));
      seen.add(bytesKey(slot));
    } catch (error) {
      if (!opts.dropInvalid || !(error instanceof VerificationError)) throw error;
      dropped.add(i);
    }
  }
  return { jobs, dropped };
}

async function checkOne(
  staking: StakingBlock,
  e: DuplicateVoteEvidence,
  ctx: { readonly height: number; readonly chainIdHash: Uint8Array; history: EvidenceHistory },
): Promise<SignatureJob[]> {
  if (!isValidPublicKey(e.consensusKey))
    throw new VerificationError('EVIDENCE_MALFORMED', 'the key is not a point on the curve');
  // Conflicting votes first (no I/O), then what needs the history.
  evidenceSignatureJobs(e, ctx.chainIdHash);
  if (e.height >= ctx.height || e.height === 0) {
    throw new VerificationError(
      'EVIDENCE_FROM_FUTURE',
      `evidence of height ${e.height} in block ${ctx.height}`,
    );
  }
  if (ctx.history.validatorsAt(e.height).indexOf(e.consensusKey) === -1) {
    throw new VerificationError(
      'EVIDENCE_UNKNOWN_VALIDATOR',
      `key ${toHex(e.consensusKey)} did not sign height ${e.height}`,
    );
  }
  const timeMs = await ctx.history.blockTimeAt(e.height);
  if (timeMs === undefined) {
    // Only a node started from a snapshot lacks the block; it cannot judge the age.
    throw new VerificationError(
      'EVIDENCE_EXPIRED',
      `block ${e.height} is below this node's earliest block`,
    );
  }
  return staking.applyEvidence(e, timeMs);
}

function heightBytes(height: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, height, false);
  return out;
}

/** Verifies the evidence's vote signatures; throws EVIDENCE_BAD_SIGNATURE. */
export async function checkEvidenceSignatures(
  checker: SignatureChecker,
  jobs: readonly SignatureJob[],
  blockHash: Uint8Array,
): Promise<void> {
  if (jobs.length === 0) return;
  try {
    await checker.check(jobs.map((job, inputIndex) => ({ ...job, txid: blockHash, inputIndex })));
  } catch (error) {
    if (!(error instanceof VerificationError)) throw error;
    const index = Number(error.details['inputIndex']);
    throw new VerificationError(
      'EVIDENCE_BAD_SIGNATURE',
      `vote ${index % 2 === 0 ? 'A' : 'B'} of evidence ${Math.floor(index / 2)} does not verify`,
    );
  }
}
