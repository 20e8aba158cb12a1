import type { CommitCertificate, VoteType } from '../../primitives/index.ts';
import { HASH_SIZE } from '../../primitives/index.ts';
import type { ValidatorSet } from '../validator-set.ts';
import type { ProposerPriorities } from './proposer.ts';

/** A vote for nil: 32 zero bytes (no block hashes to zero), as on the wire. */
export const NIL_HASH: Uint8Array = new Uint8Array(HASH_SIZE);

export function isNil(hash: Uint8Array): boolean {
  for (const b of hash) if (b !== 0) return false;
  return true;
}

/** A signed vote as gossiped; the engine sees only votes whose signature the driver checked. */
export interface SignedVote {
  readonly type: VoteType;
  readonly height: number;
  readonly round: number;
  /** NIL_HASH for a vote for nil. */
  readonly blockHash: Uint8Array;
  readonly validatorIndex: number;
  readonly signature: Uint8Array;
}

/** `B` is the proposed block; the engine never looks inside it, only at `blockHash`. */
export interface SignedProposal<B> {
  readonly height: number;
  readonly round: number;
  /** The proof-of-lock round of a re-proposed value, -1 for none. */
  readonly polRound: number;
  readonly blockHash: Uint8Array;
  readonly block: B;
  readonly proposerIndex: number;
  readonly signature: Uint8Array;
}

/**
 * Timeouts of round r are `base + delta * r` (CometBFT: propose 3 s, prevote
 * 1 s, precommit 1 s, each +0.5 s a round), so once messages arrive in bounded
 * time some round is long enough for every honest validator to take part.
 */
export interface BftParams {
  readonly timeoutProposeMs: number;
  readonly timeoutProposeDeltaMs: number;
  readonly timeoutPrevoteMs: number;
  readonly timeoutPrevoteDeltaMs: number;
  readonly timeoutPrecommitMs: number;
  readonly timeoutPrecommitDeltaMs: number;
  /** Wait after a commit before round 0 of the next height: the block interval. */
  readonly timeoutCommitMs: number;
  /** How many rounds above ours one validator may have messages in (CometBFT allows a peer one catch-up round). */
  readonly maxFutureRoundsPerValidator: number;
  /** Messages for rounds further above ours are dropped outright. */
  readonly maxRoundsAhead: number;
  /** Conflicting votes kept per validator, round and type beyond the first; also conflicting proposals per round. */
  readonly maxConflictingVotes: number;
}

export const DEFAULT_BFT_PARAMS: BftParams = {
  timeoutProposeMs: 3000,
  timeoutProposeDeltaMs: 500,
  timeoutPrevoteMs: 1000,
  timeoutPrevoteDeltaMs: 500,
  timeoutPrecommitMs: 1000,
  timeoutPrecommitDeltaMs: 500,
  timeoutCommitMs: 1000,
  maxFutureRoundsPerValidator: 2,
  maxRoundsAhead: 100,
  maxConflictingVotes: 2,
};

export type Step = 'new-height' | 'propose' | 'prevote' | 'precommit' | 'commit';
export type TimeoutStep = 'propose' | 'prevote' | 'precommit' | 'commit';
export type Validity = 'pending' | 'valid' | 'invalid';

export type BftEvent<B> =
  /** Begin the current height at start-up: round 0 at once (before WAL replay, which may move it on). */
  | { readonly kind: 'start' }
  | { readonly kind: 'proposal'; readonly proposal: SignedProposal<B> }
  | { readonly kind: 'vote'; readonly vote: SignedVote }
  | {
      readonly kind: 'timeout';
      readonly height: number;
      readonly round: number;
      readonly step: TimeoutStep;
    }
  | {
      readonly kind: 'proposal-validated';
      readonly height: number;
      readonly blockHash: Uint8Array;
      readonly valid: boolean;
    }
  /**
   * `height` is final and on disk (committed by this engine or by block sync);
   * the engine moves to height + 1 with `validators`. `priorities` must be
   * given when heights were skipped and the set changed in between.
   */
  | {
      readonly kind: 'block-committed';
      readonly height: number;
      readonly validators: ValidatorSet;
      readonly priorities?: ProposerPriorities;
    };

export type BftAction<B> =
  /** Build a block for (height, round), sign it as a proposal with polRound -1, broadcast it, feed it back. */
  | { readonly kind: 'request-proposal'; readonly height: number; readonly round: number }
  /** Re-propose the valid value: sign, broadcast, feed back. */
  | {
      readonly kind: 'broadcast-proposal';
      readonly height: number;
      readonly round: number;
      readonly polRound: number;
      readonly blockHash: Uint8Array;
      readonly block: B;
    }
  /** Sign (the signer persists first), WAL-fsync, broadcast, feed the signed vote back. */
  | {
      readonly kind: 'broadcast-vote';
      readonly type: VoteType;
      readonly height: number;
      readonly round: number;
      readonly blockHash: Uint8Array;
    }
  | {
      readonly kind: 'schedule-timeout';
      readonly height: number;
      readonly round: number;
      readonly step: TimeoutStep;
      readonly durationMs: number;
    }
  /** Check every block rule but its own commit, once; answer with proposal-validated. */
  | {
      readonly kind: 'validate-proposal';
      readonly height: number;
      readonly blockHash: Uint8Array;
      readonly block: B;
    }
  /** The block is final: connect it, then answer with block-committed. */
  | {
      readonly kind: 'commit';
      readonly height: number;
      readonly round: number;
      readonly blockHash: Uint8Array;
      readonly block: B;
      readonly certificate: CommitCertificate;
    }
  /** Two votes of one validator for one height/round/type with different block hashes. */
  | { readonly kind: 'evidence'; readonly voteA: SignedVote; readonly voteB: SignedVote }
  /** The round went up (by timeout or by f+1 messages of a later round): the driver logs it above 0. */
  | {
      readonly kind: 'round-changed';
      readonly height: number;
      readonly round: number;
      readonly reason: 'timeout' | 'skip' | 'new-height';
    };

/** Why a message was not taken in: drops are normal and bounded, never an error. */
export type DropReason =
  | 'past-height'
  | 'future-height'
  | 'far-future-round'
  | 'future-round-budget'
  | 'unknown-validator'
  | 'wrong-proposer'
  | 'bad-pol-round'
  | 'duplicate'
  | 'equivocation'
  | 'conflicting-proposal'
  | 'stale';

export interface StepResult<B> {
  readonly state: BftState<B>;
  readonly actions: readonly BftAction<B>[];
  readonly dropped?: DropReason;
}

/**
 * One validator's votes of one type in one round: normally one. A validator
 * that equivocates may have a few more (bounded by maxConflictingVotes, nil
 * and proposed blocks preferred): its conflicting vote can be part of a
 * polka another node saw, and a node that drops it could never follow that
 * node's proof-of-lock (CometBFT keeps such votes when a peer claims +2/3).
 * Counting an equivocator for both values is safe: it could have sent either
 * value to anyone.
 */
export type SlotVotes = readonly SignedVote[];

export interface RoundState<B> {
  /** The first proposal taken in: the one this node prevotes on (lines 22, 28). */
  readonly proposal: SignedProposal<B> | null;
  /**
   * Other proposals of an equivocating proposer, kept only when more than a
   * third of the power voted for their block in this round (at most
   * maxConflictingVotes): line 36 (polka) and line 49 (decide) hold for any
   * proposal of the round, and without its block this node could not follow
   * the others' decision.
   */
  readonly conflicting: readonly SignedProposal<B>[];
  /** Indexed by validator index; the first vote seen comes first. */
  readonly prevotes: readonly (SlotVotes | undefined)[];
  readonly precommits: readonly (SlotVotes | undefined)[];
}

export interface BftState<B> {
  readonly params: BftParams;
  /** This validator's consensus key, or null for a node that only follows. */
  readonly self: Uint8Array | null;
  readonly height: number;
  readonly round: number;
  readonly step: Step;
  readonly proposers: ProposerPriorities;
  /** Our index in this height's set, or -1. */
  readonly me: number;
  readonly lockedRound: number;
  readonly lockedHash: Uint8Array | null;
  readonly validRound: number;
  readonly validHash: Uint8Array | null;
  readonly rounds: ReadonlyMap<number, RoundState<B>>;
  /** Keyed by bytesKey(blockHash): a block is validated once per height. */
  readonly validity: ReadonlyMap<string, Validity>;
  /** "For the first time" flags of the current round (lines 34, 36, 47 of the paper). */
  readonly prevoteTimeoutScheduled: boolean;
  readonly precommitTimeoutScheduled: boolean;
  readonly polkaSeen: boolean;
  /** Slots (validator/round/type) already reported, so one equivocation is one evidence. */
  readonly evidenceSlots: ReadonlySet<string>;
}
