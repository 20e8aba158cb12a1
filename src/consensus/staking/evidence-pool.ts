import { toHex } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import type { BatchVerifier } from '../signatures.ts';
import type { ValidatorSet } from '../validator-set.ts';
import {
  type DuplicateVoteEvidence,
  EVIDENCE_BYTES,
  evidenceSignatureJobs,
  isEvidenceExpired,
} from './evidence.ts';

export interface EvidencePoolOptions {
  /** Pieces of evidence kept at most; the oldest (lowest height) leave first. */
  readonly maxEntries: number;
}

export const DEFAULT_EVIDENCE_POOL_ENTRIES = 256;

/** What the pool needs to check evidence: the chain's sets, and the signature checker. */
export interface EvidenceContext {
  readonly chainIdHash: Uint8Array;
  /** The set that signed `height` (the chain's set history). */
  validatorsAt(height: number): ValidatorSet;
  readonly tipHeight: number;
  readonly verifier: BatchVerifier;
}

/**
 * Verified duplicate-vote evidence waiting to be committed (docs/staking.md,
 * "Evidence"). Evidence enters only after its checks: conflicting votes in
 * canonical order, a key of the set that signed that height, a height at most
 * the one in progress, and both signatures (`EVIDENCE_BAD_SIGNATURE`, the
 * sender's fault). One equivocation (key, height, round, type) is kept once;
 * the pool is bounded, dropping the oldest height first.
 */
export class EvidencePool {
  private readonly maxEntries: number;
  private readonly bySlot = new Map<string, DuplicateVoteEvidence>();

  constructor(opts: Partial<EvidencePoolOptions> = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_EVIDENCE_POOL_ENTRIES;
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) {
      throw new RangeError(`maxEntries must be a positive integer, got ${this.maxEntries}`);
    }
  }

  get size(): number {
    return this.bySlot.size;
  }

  /** Verifies and keeps `e`; false if that equivocation is already pooled. Throws the rule's VerificationError. */
  async add(e: DuplicateVoteEvidence, ctx: EvidenceContext): Promise<boolean> {
    const slot = slotOf(e);
    if (this.bySlot.has(slot)) return false;
    // The height in progress (tip + 1) is where equivocations are seen; a block
    // can include them from the next height on.
    if (e.height > ctx.tipHeight + 1) {
      throw new VerificationError(
        'EVIDENCE_FROM_FUTURE',
        `evidence of height ${e.height} above the height in progress ${ctx.tipHeight + 1}`,
      );
    }
    const jobs = evidenceSignatureJobs(e, ctx.chainIdHash);
    if (ctx.validatorsAt(e.height).indexOf(e.consensusKey) === -1) {
      throw new VerificationError(
        'EVIDENCE_UNKNOWN_VALIDATOR',
        `key ${toHex(e.consensusKey)} did not sign height ${e.height}`,
      );
    }
    const valid = await ctx.verifier.verifyBatch(jobs);
    const bad = valid.indexOf(false);
    if (bad !== -1) {
      throw new VerificationError(
        'EVIDENCE_BAD_SIGNATURE',
        `vote ${bad === 0 ? 'A' : 'B'} of the evidence does not verify`,
        { slot },
      );
    }
    if (this.bySlot.size >= this.maxEntries) this.dropOldest();
    this.bySlot.set(slot, e);
    return true;
  }

  /**
   * Oldest first, at most `maxBytes` of encoded evidence: what a proposer
   * may include (of the pieces `keep` accepts, if given).
   */
  pending(
    maxBytes: number,
    keep: (e: DuplicateVoteEvidence) => boolean = () => true,
  ): DuplicateVoteEvidence[] {
    const all = [...this.bySlot.values()].filter(keep).sort((a, b) => a.height - b.height);
    return all.slice(0, Math.max(0, Math.floor(maxBytes / EVIDENCE_BYTES)));
  }

  /** Every pooled piece, oldest first (the API's pending list). */
  list(): DuplicateVoteEvidence[] {
    return [...this.bySlot.values()].sort((a, b) => a.height - b.height);
  }

  /** Removes committed evidence (by its equivocation). */
  remove(committed: readonly DuplicateVoteEvidence[]): void {
    for (const e of committed) this.bySlot.delete(slotOf(e));
  }

  /** Drops evidence expired at `now` (older than both the block and the time age). */
  prune(
    now: { height: number; timeMs: number },
    maxAge: { blocks: number; ms: number },
    timeOf: (height: number) => number | undefined,
  ): number {
    let dropped = 0;
    for (const [slot, e] of this.bySlot) {
      const at = timeOf(e.height);
      if (at !== undefined && isEvidenceExpired(e.height, at, now, maxAge)) {
        this.bySlot.delete(slot);
        dropped++;
      }
    }
    return dropped;
  }

  private dropOldest(): void {
    let oldest: [string, DuplicateVoteEvidence] | undefined;
    for (const entry of this.bySlot)
      if (oldest === undefined || entry[1].height < oldest[1].height) oldest = entry;
    if (oldest !== undefined) this.bySlot.delete(oldest[0]);
  }
}

/** One equivocation: key, height, round, vote type. */
function slotOf(e: DuplicateVoteEvidence): string {
  return `${toHex(e.consensusKey)}/${e.height}/${e.round}/${e.voteType}`;
}
