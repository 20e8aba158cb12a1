/**
 * What the staking and consensus routes read, as small interfaces the node
 * fills in: the registry through a state reader (src/consensus/staking/
 * queries.ts) and the BFT engine's summary. Plain data, so the API layer
 * depends on no store or engine internals, and a node without one of them
 * (no state store yet, or no consensus engine) simply passes nothing: the
 * routes then answer what they can or 503 SERVICE_UNAVAILABLE.
 */

import type { ValidatorStakeState } from '../consensus/index.ts';

/**
 * One validator's registry records, as stored (docs/staking.md "State
 * records"): the staking rules' own read model, so the API and the chain
 * cannot disagree on what a validator is.
 */
export type ValidatorStakeView = ValidatorStakeState;

export interface StakingQueries {
  /** The liveness window length (blocks), a genesis parameter. */
  readonly signedBlocksWindow: number;
  validator(validatorId: Uint8Array): Promise<ValidatorStakeView | undefined>;
  /** By any consensus key the validator ever used (old keys stay indexed). */
  validatorByConsensusKey(consensusKey: Uint8Array): Promise<ValidatorStakeView | undefined>;
  /**
   * Validators tombstoned by committed duplicate-vote evidence, in validator
   * id order, `limit` after the id `after` (exclusive).
   */
  tombstoned(page: {
    readonly limit: number;
    readonly after: Uint8Array | null;
  }): Promise<{ items: ValidatorStakeView[]; next: Uint8Array | null }>;
}

/** Votes and proposal seen in one round of the height being decided. */
export interface RoundView {
  readonly round: number;
  readonly prevotes: number;
  readonly precommits: number;
  readonly proposal: boolean;
}

export interface ConsensusView {
  readonly height: number;
  readonly round: number;
  readonly step: string;
  readonly lockedRound: number;
  readonly validRound: number;
  readonly rounds: readonly RoundView[];
  /** Proposer of the current round: index in the height's set and consensus key. */
  readonly proposer: { readonly index: number; readonly publicKey: Uint8Array } | null;
  /** When the engine last entered a new round (a new height counts: round 0). */
  readonly lastRoundChange: {
    readonly height: number;
    readonly round: number;
    /** Wall clock of this node, ms; null if the engine's clock has none. */
    readonly atMs: number | null;
  } | null;
}

export interface ConsensusQueries {
  /** Null while the engine is not running (not started yet, or stopping). */
  summary(): ConsensusView | null;
  /** Verified duplicate-vote evidence waiting for a block, oldest first. */
  pendingEvidence(): readonly PendingEvidenceView[];
}

export interface PendingEvidenceView {
  readonly consensusKey: Uint8Array;
  readonly height: number;
  readonly round: number;
  /** 1 prevote, 2 precommit. */
  readonly voteType: number;
}
