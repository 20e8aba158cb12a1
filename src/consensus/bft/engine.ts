/**
 * Tendermint (Buchman, Kwon, Milosevic, arXiv 1807.04938, Algorithm 1) as a
 * pure function: `step(state, event)` returns the next state and the actions
 * the driver must perform. No I/O, clock, timer or randomness in here, which
 * is what lets test/sim run thousands of adversarial schedules per second.
 * Line numbers in comments refer to Algorithm 1 of the paper.
 *
 * Own messages are not recorded when decided: the driver signs them and feeds
 * them back as ordinary events (as CometBFT's internal queue does), so a vote
 * the signer refused never counts.
 */
import { CommitCertificate, type VoteType, VoteType as VT } from '../../primitives/index.ts';
import { bytesKey } from '../../util/index.ts';
import type { ProposerPriorities } from './proposer.ts';
import {
  type BftAction,
  type BftEvent,
  type BftParams,
  type BftState,
  type DropReason,
  isNil,
  NIL_HASH,
  type RoundState,
  type SignedProposal,
  type SignedVote,
  type StepResult,
  type TimeoutStep,
  type Validity,
} from './types.ts';

/** 32-byte hash comparison without allocating (util's bytesEqual wraps Buffers): the hot path of every tally. */
function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function createState<B>(opts: {
  params: BftParams;
  height: number;
  proposers: ProposerPriorities;
  self: Uint8Array | null;
}): BftState<B> {
  return {
    params: opts.params,
    self: opts.self,
    height: opts.height,
    round: 0,
    step: 'new-height',
    proposers: opts.proposers,
    me: opts.self === null ? -1 : opts.proposers.set.indexOf(opts.self),
    lockedRound: -1,
    lockedHash: null,
    validRound: -1,
    validHash: null,
    rounds: new Map(),
    validity: new Map(),
    prevoteTimeoutScheduled: false,
    precommitTimeoutScheduled: false,
    polkaSeen: false,
    evidenceSlots: new Set(),
  };
}

type Draft<B> = { -readonly [K in keyof BftState<B>]: BftState<B>[K] };

/** Copy-on-write context of one step: the input state is never modified. */
class Ctx<B> {
  readonly s: Draft<B>;
  readonly actions: BftAction<B>[] = [];
  private roundsCopied = false;

  constructor(state: BftState<B>) {
    this.s = { ...state };
  }

  roundState(round: number): RoundState<B> {
    return this.s.rounds.get(round) ?? emptyRound(this.s.proposers.set.validators.length);
  }

  setRound(round: number, rs: RoundState<B>): void {
    if (!this.roundsCopied) {
      this.s.rounds = new Map(this.s.rounds);
      this.roundsCopied = true;
    }
    (this.s.rounds as Map<number, RoundState<B>>).set(round, rs);
  }

  setValidity(hash: Uint8Array, v: Validity): void {
    const m = new Map(this.s.validity);
    m.set(bytesKey(hash), v);
    this.s.validity = m;
  }

  result(dropped?: DropReason): StepResult<B> {
    return dropped === undefined
      ? { state: this.s, actions: this.actions }
      : { state: this.s, actions: this.actions, dropped };
  }
}

function emptyRound<B>(n: number): RoundState<B> {
  const none = new Array<readonly SignedVote[] | undefined>(n).fill(undefined);
  return { proposal: null, conflicting: [], prevotes: none, precommits: none };
}

export function step<B>(state: BftState<B>, event: BftEvent<B>): StepResult<B> {
  const c = new Ctx(state);
  switch (event.kind) {
    case 'start':
      // No commit to wait for at start-up: round 0 begins at once.
      if (c.s.step !== 'new-height') return c.result('stale');
      startRound(c, 0, 'new-height');
      progress(c);
      return c.result();
    case 'vote':
      return onVote(c, event.vote);
    case 'proposal':
      return onProposal(c, event.proposal);
    case 'timeout':
      return onTimeout(c, event.height, event.round, event.step);
    case 'proposal-validated': {
      if (event.height !== c.s.height) return c.result('stale');
      c.setValidity(event.blockHash, event.valid ? 'valid' : 'invalid');
      progress(c);
      return c.result();
    }
    case 'block-committed':
      return onCommitted(c, event.height, event);
  }
}

function checkHeightRound(c: Ctx<unknown>, height: number, round: number): DropReason | null {
  if (height < c.s.height) return 'past-height';
  if (height > c.s.height) return 'future-height';
  if (round > c.s.round + c.s.params.maxRoundsAhead) return 'far-future-round';
  return null;
}

/** A validator may have messages in at most maxFutureRoundsPerValidator rounds above ours. */
function overFutureBudget(c: Ctx<unknown>, validator: number, round: number): boolean {
  if (round <= c.s.round) return false;
  let open = 0;
  for (const [r, rs] of c.s.rounds) {
    if (r <= c.s.round) continue;
    const has =
      rs.prevotes[validator] !== undefined ||
      rs.precommits[validator] !== undefined ||
      rs.proposal?.proposerIndex === validator;
    if (has) {
      if (r === round) return false;
      open++;
    }
  }
  return open >= c.s.params.maxFutureRoundsPerValidator;
}

function onVote<B>(c: Ctx<B>, vote: SignedVote): StepResult<B> {
  const bad = checkHeightRound(c, vote.height, vote.round);
  if (bad !== null) return c.result(bad);
  if (vote.validatorIndex >= c.s.proposers.set.validators.length)
    return c.result('unknown-validator');
  const rs = c.roundState(vote.round);
  const list = vote.type === VT.prevote ? rs.prevotes : rs.precommits;
  const existing = list[vote.validatorIndex];
  let slotVotes: readonly SignedVote[];
  if (existing !== undefined) {
    if (existing.some((v) => bytesEqual(v.blockHash, vote.blockHash))) return c.result('duplicate');
    const slot = `${vote.validatorIndex}/${vote.round}/${vote.type}`;
    if (!c.s.evidenceSlots.has(slot)) {
      c.s.evidenceSlots = new Set(c.s.evidenceSlots).add(slot);
      c.actions.push({ kind: 'evidence', voteA: existing[0]!, voteB: vote });
    }
    slotVotes = keepConflicting(c.s, existing, vote);
    if (slotVotes === existing) return c.result('equivocation');
  } else {
    if (overFutureBudget(c, vote.validatorIndex, vote.round)) {
      return c.result('future-round-budget');
    }
    slotVotes = [vote];
  }
  const updated = [...list];
  updated[vote.validatorIndex] = slotVotes;
  c.setRound(
    vote.round,
    vote.type === VT.prevote ? { ...rs, prevotes: updated } : { ...rs, precommits: updated },
  );
  progress(c);
  return c.result();
}

/**
 * Adds a conflicting vote within the bound. When full, a vote for nil or for
 * a proposed block replaces an extra that is for neither (only those can
 * complete a quorum this node can act on). Returns `existing` if nothing changed.
 */
function keepConflicting<B>(
  s: BftState<B>,
  existing: readonly SignedVote[],
  vote: SignedVote,
): readonly SignedVote[] {
  if (existing.length < 1 + s.params.maxConflictingVotes) return [...existing, vote];
  const useful = (v: SignedVote) => isNil(v.blockHash) || findBlock(s, v.blockHash) !== undefined;
  if (!useful(vote)) return existing;
  const i = existing.findIndex((v, k) => k > 0 && !useful(v));
  if (i === -1) return existing;
  const out = [...existing];
  out[i] = vote;
  return out;
}

function onProposal<B>(c: Ctx<B>, p: SignedProposal<B>): StepResult<B> {
  const bad = checkHeightRound(c, p.height, p.round);
  if (bad !== null) return c.result(bad);
  if (p.proposerIndex !== c.s.proposers.proposerAt(p.round)) return c.result('wrong-proposer');
  if (p.polRound < -1 || p.polRound >= p.round) return c.result('bad-pol-round');
  const rs = c.roundState(p.round);
  if (rs.proposal !== null) {
    if (proposalsOf(rs).some((q) => bytesEqual(q.blockHash, p.blockHash))) {
      return c.result('duplicate');
    }
    // An equivocating proposer: its other block is kept only when more than a
    // third of the power (some honest validator) voted for it, so it alone
    // cannot make this node validate blocks without end.
    const backed =
      oneThird(c.s, powerFor(c.s, rs.prevotes, p.blockHash)) ||
      oneThird(c.s, powerFor(c.s, rs.precommits, p.blockHash));
    if (!backed || rs.conflicting.length >= c.s.params.maxConflictingVotes) {
      return c.result('conflicting-proposal');
    }
    c.setRound(p.round, { ...rs, conflicting: [...rs.conflicting, p] });
  } else {
    if (overFutureBudget(c, p.proposerIndex, p.round)) return c.result('future-round-budget');
    c.setRound(p.round, { ...rs, proposal: p });
  }
  if (!c.s.validity.has(bytesKey(p.blockHash))) {
    c.setValidity(p.blockHash, 'pending');
    c.actions.push({
      kind: 'validate-proposal',
      height: p.height,
      blockHash: p.blockHash,
      block: p.block,
    });
  }
  progress(c);
  return c.result();
}

function onTimeout<B>(c: Ctx<B>, height: number, round: number, which: TimeoutStep): StepResult<B> {
  const s = c.s;
  if (height !== s.height || round !== s.round) return c.result('stale');
  if (which === 'commit') {
    if (s.step !== 'new-height') return c.result('stale');
    startRound(c, 0, 'new-height');
  } else if (which === 'propose') {
    if (s.step !== 'propose') return c.result('stale');
    vote(c, VT.prevote, NIL_HASH); // line 57
    s.step = 'prevote';
  } else if (which === 'prevote') {
    if (s.step !== 'prevote') return c.result('stale');
    vote(c, VT.precommit, NIL_HASH); // line 61
    s.step = 'precommit';
  } else {
    if (s.step === 'commit' || s.step === 'new-height') return c.result('stale');
    startRound(c, round + 1, 'timeout'); // line 65
  }
  progress(c);
  return c.result();
}

function onCommitted<B>(
  c: Ctx<B>,
  height: number,
  event: Extract<BftEvent<B>, { kind: 'block-committed' }>,
): StepResult<B> {
  const s = c.s;
  if (height < s.height) return c.result('past-height');
  let proposers = event.priorities;
  if (proposers === undefined) {
    // Contiguous heights (the usual case): one step of the round robin per
    // height. After a jump without priorities the set is assumed unchanged.
    proposers = s.proposers;
    for (let h = s.height; h <= height; h++) proposers = proposers.next(event.validators);
  }
  const next = createState<B>({
    params: s.params,
    height: height + 1,
    proposers,
    self: s.self,
  });
  Object.assign(s, next);
  c.actions.push({ kind: 'round-changed', height: height + 1, round: 0, reason: 'new-height' });
  scheduleTimeout(c, 'commit', 0);
  return c.result();
}

function timeoutMs(p: BftParams, which: TimeoutStep, round: number): number {
  switch (which) {
    case 'propose':
      return p.timeoutProposeMs + p.timeoutProposeDeltaMs * round;
    case 'prevote':
      return p.timeoutPrevoteMs + p.timeoutPrevoteDeltaMs * round;
    case 'precommit':
      return p.timeoutPrecommitMs + p.timeoutPrecommitDeltaMs * round;
    case 'commit':
      return p.timeoutCommitMs;
  }
}

function scheduleTimeout(c: Ctx<unknown>, which: TimeoutStep, round: number): void {
  c.actions.push({
    kind: 'schedule-timeout',
    height: c.s.height,
    round,
    step: which,
    durationMs: timeoutMs(c.s.params, which, round),
  });
}

function vote(c: Ctx<unknown>, type: VoteType, blockHash: Uint8Array): void {
  if (c.s.me < 0) return;
  c.actions.push({
    kind: 'broadcast-vote',
    type,
    height: c.s.height,
    round: c.s.round,
    blockHash,
  });
}

/** Lines 11-21. */
function startRound<B>(c: Ctx<B>, round: number, reason: 'timeout' | 'skip' | 'new-height'): void {
  const s = c.s;
  s.round = round;
  s.step = 'propose';
  s.prevoteTimeoutScheduled = false;
  s.precommitTimeoutScheduled = false;
  s.polkaSeen = false;
  if (reason !== 'new-height' || round > 0) {
    c.actions.push({ kind: 'round-changed', height: s.height, round, reason });
  }
  if (s.me >= 0 && s.proposers.proposerAt(round) === s.me) {
    const valid = s.validHash === null ? undefined : findBlock(s, s.validHash);
    if (s.validHash !== null && valid !== undefined) {
      c.actions.push({
        kind: 'broadcast-proposal',
        height: s.height,
        round,
        polRound: s.validRound,
        blockHash: s.validHash,
        block: valid,
      });
    } else {
      c.actions.push({ kind: 'request-proposal', height: s.height, round });
    }
  }
  // The proposer schedules it too: if building its block fails, the round still ends.
  scheduleTimeout(c, 'propose', round);
}

/** Every proposal of a round: the first, then an equivocating proposer's others. */
export function proposalsOf<B>(rs: RoundState<B>): readonly SignedProposal<B>[] {
  if (rs.proposal === null) return rs.conflicting;
  return rs.conflicting.length === 0 ? [rs.proposal] : [rs.proposal, ...rs.conflicting];
}

function findBlock<B>(s: BftState<B>, hash: Uint8Array): B | undefined {
  for (const rs of s.rounds.values()) {
    for (const p of proposalsOf(rs)) if (bytesEqual(p.blockHash, hash)) return p.block;
  }
  return undefined;
}

/** Power of the validators with a vote for `hash` (any vote when null), each counted once. */
function powerFor(
  s: BftState<unknown>,
  votes: readonly (readonly SignedVote[] | undefined)[],
  hash: Uint8Array | null,
): bigint {
  let power = 0n;
  const validators = s.proposers.set.validators;
  for (let i = 0; i < votes.length; i++) {
    const slot = votes[i];
    if (slot === undefined) continue;
    if (hash === null || slot.some((v) => bytesEqual(v.blockHash, hash))) {
      power += validators[i]!.power;
    }
  }
  return power;
}

function quorum(s: BftState<unknown>, power: bigint): boolean {
  return s.proposers.set.hasQuorum(power);
}

/** More than a third: at least one honest validator is there (f+1 of the paper). */
function oneThird(s: BftState<unknown>, power: bigint): boolean {
  return power * 3n > s.proposers.set.totalPower;
}

function validity(s: BftState<unknown>, hash: Uint8Array): Validity | undefined {
  return s.validity.get(bytesKey(hash));
}

/** Re-checks every "upon" rule until none fires. */
function progress<B>(c: Ctx<B>): void {
  for (let guard = 0; guard < 64; guard++) {
    if (!progressOnce(c)) return;
  }
  throw new Error('consensus engine did not settle (a bug)');
}

function progressOnce<B>(c: Ctx<B>): boolean {
  const s = c.s;
  if (s.step === 'commit') return false;
  if (tryDecide(c)) return true;
  if (trySkipRound(c)) return true;
  if (s.step === 'new-height') return false;
  const rs = c.roundState(s.round);
  const p = rs.proposal;
  if (s.step === 'propose' && p !== null) {
    const v = validity(s, p.blockHash);
    if (v === 'pending') return false;
    const ok = v === 'valid';
    if (p.polRound === -1) {
      // line 22
      const free = s.lockedRound === -1 || bytesEqual(s.lockedHash!, p.blockHash);
      vote(c, VT.prevote, ok && free ? p.blockHash : NIL_HASH);
      s.step = 'prevote';
      return true;
    }
    const pol = c.roundState(p.polRound);
    if (quorum(s, powerFor(s, pol.prevotes, p.blockHash))) {
      // line 28
      const free = s.lockedRound <= p.polRound || bytesEqual(s.lockedHash!, p.blockHash);
      vote(c, VT.prevote, ok && free ? p.blockHash : NIL_HASH);
      s.step = 'prevote';
      return true;
    }
  }
  if (
    s.step === 'prevote' &&
    !s.prevoteTimeoutScheduled &&
    quorum(s, powerFor(s, rs.prevotes, null))
  ) {
    s.prevoteTimeoutScheduled = true; // line 34
    scheduleTimeout(c, 'prevote', s.round);
  }
  const polka =
    s.step === 'propose' || s.polkaSeen
      ? undefined
      : proposalsOf(rs).find(
          (q) =>
            validity(s, q.blockHash) === 'valid' &&
            quorum(s, powerFor(s, rs.prevotes, q.blockHash)),
        );
  if (polka !== undefined) {
    // line 36: any proposal of the round (an equivocating proposer's other block too)
    s.polkaSeen = true;
    if (s.step === 'prevote') {
      s.lockedHash = polka.blockHash;
      s.lockedRound = s.round;
      vote(c, VT.precommit, polka.blockHash);
      s.step = 'precommit';
    }
    s.validHash = polka.blockHash;
    s.validRound = s.round;
    return true;
  }
  if (s.step === 'prevote' && quorum(s, powerFor(s, rs.prevotes, NIL_HASH))) {
    vote(c, VT.precommit, NIL_HASH); // line 44
    s.step = 'precommit';
    return true;
  }
  if (!s.precommitTimeoutScheduled && quorum(s, powerFor(s, rs.precommits, null))) {
    s.precommitTimeoutScheduled = true; // line 47
    scheduleTimeout(c, 'precommit', s.round);
  }
  return false;
}

/** Line 49: +2/3 precommits of any round for a block we have and found valid. */
function tryDecide<B>(c: Ctx<B>): boolean {
  const s = c.s;
  for (const [round, rs] of s.rounds) {
    const p = proposalsOf(rs).find(
      (q) =>
        validity(s, q.blockHash) === 'valid' && quorum(s, powerFor(s, rs.precommits, q.blockHash)),
    );
    if (p === undefined) continue;
    const signatures = [];
    for (const slot of rs.precommits) {
      const v = slot?.find((x) => bytesEqual(x.blockHash, p.blockHash));
      if (v !== undefined) {
        signatures.push({ validatorIndex: v.validatorIndex, signature: v.signature });
      }
    }
    s.step = 'commit';
    c.actions.push({
      kind: 'commit',
      height: s.height,
      round,
      blockHash: p.blockHash,
      block: p.block,
      certificate: new CommitCertificate({
        height: s.height,
        round,
        blockHash: p.blockHash,
        signatures,
      }),
    });
    return true;
  }
  return false;
}

/** Line 55: messages of more than a third of the power in a later round: go there. */
function trySkipRound<B>(c: Ctx<B>): boolean {
  const s = c.s;
  let target = -1;
  for (const [round, rs] of s.rounds) {
    if (round <= s.round || round <= target) continue;
    let power = 0n;
    s.proposers.set.validators.forEach((val, i) => {
      if (
        rs.prevotes[i] !== undefined ||
        rs.precommits[i] !== undefined ||
        rs.proposal?.proposerIndex === i
      ) {
        power += val.power;
      }
    });
    if (oneThird(s, power)) target = round;
  }
  if (target === -1) return false;
  startRound(c, target, 'skip');
  return true;
}

/** What an API or a catch-up request sees of one round. */
export function roundMessages<B>(
  state: BftState<B>,
  round: number,
): { proposal: SignedProposal<B> | null; votes: SignedVote[] } {
  const rs = state.rounds.get(round);
  if (rs === undefined) return { proposal: null, votes: [] };
  const votes = [...rs.prevotes, ...rs.precommits].flatMap((v) => v ?? []);
  return { proposal: rs.proposal, votes };
}

/**
 * The proof-of-lock round of the current round's proposal when this node
 * lacks its +2/3 prevotes for that block (line 28 cannot fire without them),
 * else -1. Only in the propose step: later, the POL round no longer matters.
 */
export function missingPolRound<B>(state: BftState<B>): number {
  if (state.step !== 'propose') return -1;
  const p = state.rounds.get(state.round)?.proposal ?? null;
  if (p === null || p.polRound < 0) return -1;
  const pol = state.rounds.get(p.polRound);
  if (pol !== undefined && quorum(state, powerFor(state, pol.prevotes, p.blockHash))) return -1;
  return p.polRound;
}

/**
 * A block that validators with more than a third of the power voted for in
 * the current round, whose proposal this node does not hold (gossip lost it,
 * or it came before this node reached the height), else null: catch-up should
 * fetch it by hash. Some honest validator found it valid, so it is worth it.
 */
export function missingProposal<B>(state: BftState<B>): Uint8Array | null {
  if (state.step === 'new-height' || state.step === 'commit') return null;
  const rs = state.rounds.get(state.round);
  if (rs === undefined) return null;
  for (const votes of [rs.prevotes, rs.precommits]) {
    for (const slot of votes) {
      for (const v of slot ?? []) {
        if (isNil(v.blockHash) || findBlock(state, v.blockHash) !== undefined) continue;
        if (oneThird(state, powerFor(state, votes, v.blockHash))) return v.blockHash;
      }
    }
  }
  return null;
}

/** The block with this hash among this height's proposals (catch-up by hash). */
export function blockByHash<B>(state: BftState<B>, hash: Uint8Array): B | undefined {
  return findBlock(state, hash);
}

export interface ConsensusSummary {
  readonly height: number;
  readonly round: number;
  readonly step: string;
  readonly lockedRound: number;
  readonly validRound: number;
  readonly rounds: readonly {
    round: number;
    prevotes: number;
    precommits: number;
    proposal: boolean;
  }[];
  /** Proposer of the current round (index in the height's set, consensus key). */
  readonly proposer: { readonly index: number; readonly publicKey: Uint8Array } | null;
}

export function summarize(state: BftState<unknown>): ConsensusSummary {
  const rounds = [...state.rounds.entries()]
    .sort(([a], [b]) => a - b)
    .map(([round, rs]) => ({
      round,
      prevotes: rs.prevotes.filter((v) => v !== undefined).length,
      precommits: rs.precommits.filter((v) => v !== undefined).length,
      proposal: rs.proposal !== null,
    }));
  const validators = state.proposers.set.validators;
  // proposerAt only extends its memo of the weighted round robin: no state change the engine sees.
  const index = validators.length === 0 ? -1 : state.proposers.proposerAt(state.round);
  const member = validators[index];
  return {
    height: state.height,
    round: state.round,
    step: state.step,
    lockedRound: state.lockedRound,
    validRound: state.validRound,
    rounds,
    proposer: member === undefined ? null : { index, publicKey: member.publicKey },
  };
}
