/**
 * Binds the pure engine to the world: the transport (gossip), an injectable
 * clock, the signer, the WAL and the node host. It is the only consensus code
 * with side effects. Events are processed one at a time in arrival order;
 * async work (building, validating, committing a block) ends by queueing the
 * event that reports its result, so the engine never waits on I/O.
 *
 * Untrusted input is decoded strictly with size bounds (messages.ts) and
 * checked for height and validator index before any signature is verified;
 * an invalid message penalises its sender through `penalise`.
 */

import { DecodeError } from '../../encoding/index.ts';
import type { Block } from '../../primitives/index.ts';
import {
  type CommitCertificate,
  NO_POL_ROUND,
  proposalDigest,
  VoteType,
  voteDigest,
} from '../../primitives/index.ts';
import { asError, bytesEqual, type Timer } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import { DoubleSignError, type SignedMessage } from '../validator-signer.ts';
import type {
  BftDriverModules,
  BftDriverOptions,
  ConsensusVerdict,
  RoundChange,
} from './driver-types.ts';
import {
  type ConsensusSummary,
  createState,
  missingPolRound,
  missingProposal,
  proposalsOf,
  roundMessages,
  step,
  summarize,
} from './engine.ts';
import {
  decodeProposal,
  decodeVote,
  type EvidenceMessage,
  encodeEvidence,
  encodeProposal,
  encodeVote,
  type ProposalMessage,
  type VoteMessage,
} from './messages.ts';
import { NextHeightBuffer } from './next-height-buffer.ts';
import type { ProposerPriorities } from './proposer.ts';
import type { BftAction, BftEvent, BftState, SignedProposal, SignedVote } from './types.ts';
import type { WalEntry } from './wal.ts';

export type * from './driver-types.ts';

/** How often a validator with nothing to propose looks at the mempool again. */
const IDLE_POLL_MS = 50;
/** The least wait after a commit, as a share of the block interval (see commitDelay). */
const MIN_COMMIT_WAIT_SHARE = 0.25;

type Queued = { event: BftEvent<Block>; wal: boolean };

export class BftDriver {
  private readonly opts: BftDriverOptions;
  private readonly m: BftDriverModules;
  private state: BftState<Block>;
  private roundChange: RoundChange | null = null;
  private readonly queue: Queued[] = [];
  private draining = false;
  private stopped = true;
  private replaying = false;
  private readonly timers = new Set<Timer>();
  private readonly inflight = new Set<Promise<void>>();
  private flushTimer: Timer | null = null;
  /** When the current height left 'new-height' (its round 0 began); null before that. */
  private heightStartedAt: number | null = null;
  private readonly nextHeight: NextHeightBuffer;

  constructor(opts: BftDriverOptions, modules: BftDriverModules) {
    this.opts = opts;
    this.m = modules;
    this.state = createState<Block>({
      params: opts.params,
      height: opts.height,
      proposers: modules.proposers,
      self: modules.signer?.publicKey ?? null,
    });
    const validators = modules.proposers.set.validators.length;
    // Round 0 and 1 of the next height: its two votes per validator and
    // proposals, with room for a set that grows by a few at that height.
    this.nextHeight = new NextHeightBuffer({
      maxRound: 1,
      maxVotes: 4 * (validators + 8),
      maxProposals: 4,
    });
  }

  /** The height being decided. */
  get height(): number {
    return this.state.height;
  }

  /** True while a block is being built, validated or committed. */
  get busy(): boolean {
    return this.inflight.size > 0;
  }

  /** Consensus state for the API: height, round, step, votes seen per round, proposer. */
  get summary(): ConsensusSummary {
    return summarize(this.state);
  }

  /**
   * The POL round whose +2/3 prevotes for the current proposal this node lacks
   * while it waits to prevote, else -1: catch-up should fetch that round.
   */
  get missingPolRound(): number {
    return missingPolRound(this.state);
  }

  /** A block more than a third voted for in this round whose proposal this node lacks, or null. */
  get missingProposal(): Uint8Array | null {
    return missingProposal(this.state);
  }

  /** When the engine last entered a new (height, round); null before the first step. */
  get lastRoundChange(): RoundChange | null {
    return this.roundChange;
  }

  /**
   * Replays the WAL entries of the current height (own and peers' messages,
   * timeouts) through the engine, then starts. Replayed own messages are
   * re-signed by the signer, which returns the stored signature for identical
   * bytes and refuses anything else, so replay can never double-sign.
   */
  start(replay: readonly WalEntry[] = []): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.replaying = true;
    this.enqueue({ kind: 'start' }, false);
    for (const entry of replay) {
      if (entry.kind === 'vote') this.enqueue({ kind: 'vote', vote: entry.vote }, false);
      else if (entry.kind === 'proposal') {
        this.enqueue({ kind: 'proposal', proposal: toEngineProposal(entry.proposal) }, false);
      } else if (entry.kind === 'timeout') this.enqueue(entry, false);
    }
    this.drain();
    this.replaying = false;
    this.scheduleFlush();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) this.m.clock.clearTimeout(t);
    this.timers.clear();
    if (this.flushTimer !== null) this.m.clock.clearTimeout(this.flushTimer);
    await Promise.allSettled([...this.inflight]);
    this.m.wal.sync();
  }

  /** A gossiped vote: strict decode, cheap checks, signature, then the engine. */
  receiveVote(peerId: string, bytes: Uint8Array): ConsensusVerdict {
    let vote: VoteMessage;
    try {
      vote = decodeVote(bytes);
    } catch (error) {
      return this.reject(peerId, 'CONSENSUS_MALFORMED', `vote: ${asError(error).message}`, error);
    }
    return this.receiveDecodedVote(peerId, vote);
  }

  receiveDecodedVote(peerId: string, vote: VoteMessage): ConsensusVerdict {
    // Votes for other heights are dropped (or held for the next height) before
    // paying for a signature check.
    if (vote.height !== this.state.height) {
      if (vote.height === this.state.height + 1 && !this.replaying)
        this.nextHeight.holdVote(peerId, vote);
      return this.otherHeight(peerId, vote.height);
    }
    if (vote.round > this.state.round + this.state.params.maxRoundsAhead) return 'ignore';
    // Gossip and catch-up deliver the same vote many times: one signature check.
    if (this.holdsVote(vote)) return 'ignore';
    const validator = this.state.proposers.set.validators[vote.validatorIndex];
    if (validator === undefined) {
      return this.reject(
        peerId,
        'CONSENSUS_UNKNOWN_VALIDATOR',
        `vote from index ${vote.validatorIndex}`,
      );
    }
    const digest = voteDigest(
      this.m.host.chainIdHash,
      vote.type,
      vote.height,
      vote.round,
      vote.blockHash,
    );
    if (!this.verify(digest, vote.signature, validator.publicKey)) {
      return this.reject(
        peerId,
        'CONSENSUS_BAD_SIGNATURE',
        `vote of validator ${vote.validatorIndex}`,
      );
    }
    this.m.wal.append({ kind: 'vote', vote });
    this.enqueue({ kind: 'vote', vote }, false);
    this.drain();
    return 'accept';
  }

  receiveProposal(peerId: string, bytes: Uint8Array): ConsensusVerdict {
    let p: ProposalMessage;
    try {
      p = decodeProposal(bytes);
    } catch (error) {
      return this.reject(
        peerId,
        'CONSENSUS_MALFORMED',
        `proposal: ${asError(error).message}`,
        error,
      );
    }
    return this.receiveDecodedProposal(peerId, p);
  }

  receiveDecodedProposal(peerId: string, p: ProposalMessage): ConsensusVerdict {
    if (p.height !== this.state.height) {
      if (p.height === this.state.height + 1 && !this.replaying)
        this.nextHeight.holdProposal(peerId, p);
      return this.otherHeight(peerId, p.height);
    }
    const round = p.round;
    if (round > this.state.round + this.state.params.maxRoundsAhead) return 'ignore';
    if (p.proposerIndex !== this.state.proposers.proposerAt(round)) {
      return this.reject(peerId, 'CONSENSUS_WRONG_PROPOSER', `proposal of round ${round}`);
    }
    const proposer = this.state.proposers.set.validators[p.proposerIndex]!;
    const digest = proposalDigest(
      this.m.host.chainIdHash,
      p.height,
      round,
      p.polRound,
      p.block.hash,
    );
    if (!this.verify(digest, p.signature, proposer.publicKey)) {
      return this.reject(peerId, 'CONSENSUS_BAD_SIGNATURE', `proposal of round ${round}`);
    }
    this.m.wal.append({ kind: 'proposal', proposal: p });
    this.enqueue({ kind: 'proposal', proposal: toEngineProposal(p) }, false);
    this.drain();
    return 'accept';
  }

  private otherHeight(peerId: string, height: number): ConsensusVerdict {
    if (height > this.state.height) this.m.onAhead?.(peerId, height);
    return 'ignore';
  }

  /** Catch-up (request/response): the votes held for a round of the current height. */
  votesAt(height: number, round: number): VoteMessage[] {
    if (height !== this.state.height) return [];
    return roundMessages(this.state, round).votes;
  }

  /** Whether a proposal of the current height carries this block. */
  holdsProposal(blockHash: Uint8Array): boolean {
    for (const rs of this.state.rounds.values()) {
      if (proposalsOf(rs).some((p) => bytesEqual(p.blockHash, blockHash))) return true;
    }
    return false;
  }

  private holdsVote(vote: VoteMessage): boolean {
    const rs = this.state.rounds.get(vote.round);
    if (rs === undefined) return false;
    const held = (vote.type === VoteType.prevote ? rs.prevotes : rs.precommits)[
      vote.validatorIndex
    ];
    return held?.some((v) => bytesEqual(v.signature, vote.signature)) ?? false;
  }

  /** Catch-up: the proposal of the current height carrying this block, if held. */
  proposalByHash(blockHash: Uint8Array): ProposalMessage | null {
    for (const rs of this.state.rounds.values()) {
      const p = proposalsOf(rs).find((q) => bytesEqual(q.blockHash, blockHash));
      if (p !== undefined) {
        return {
          height: p.height,
          round: p.round,
          polRound: p.polRound === -1 ? NO_POL_ROUND : p.polRound,
          block: p.block,
          proposerIndex: p.proposerIndex,
          signature: p.signature,
        };
      }
    }
    return null;
  }

  /**
   * Block sync connected `height` without this engine: move on. `priorities`
   * are those of height + 1 when the caller knows them (a jump over a
   * validator-set change needs them).
   */
  syncedTo(height: number, priorities?: ProposerPriorities, certificate?: CommitCertificate): void {
    if (height < this.state.height) return;
    if (certificate !== undefined) this.compareWithHeld(certificate);
    this.m.wal.endHeight(height);
    this.enqueue(
      {
        kind: 'block-committed',
        height,
        validators: this.m.host.validatorsAt(height + 1),
        ...(priorities === undefined ? {} : { priorities }),
      },
      false,
    );
    this.drain();
  }

  /**
   * The certificate that finalised this height (from block sync or gossip)
   * against the votes this node holds: a validator whose precommit in the
   * certificate names another block than a precommit it sent this node for
   * the same round signed both. Without this check a node that held the
   * losing side of an equivocation and then synced the winning block never
   * put the two side by side, and the double sign went unpunished. The
   * certificate's signatures were verified when its block was connected; the
   * evidence pool verifies both votes again.
   */
  private compareWithHeld(certificate: CommitCertificate): void {
    if (certificate.height !== this.state.height || this.replaying) return;
    const held = roundMessages(this.state, certificate.round).votes;
    for (const { validatorIndex, signature } of certificate.signatures) {
      const conflicting = held.find(
        (v) =>
          v.type === VoteType.precommit &&
          v.validatorIndex === validatorIndex &&
          !bytesEqual(v.blockHash, certificate.blockHash),
      );
      if (conflicting === undefined) continue;
      this.perform({
        kind: 'evidence',
        voteA: conflicting,
        voteB: {
          type: VoteType.precommit,
          height: certificate.height,
          round: certificate.round,
          blockHash: certificate.blockHash,
          validatorIndex,
          signature,
        },
      });
    }
  }

  private verify(digest: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean {
    if (this.m.sigCache?.has(digest, sig, pub)) return true;
    const ok = this.m.verifier.verify(digest, sig, pub);
    if (ok) this.m.sigCache?.add(digest, sig, pub);
    return ok;
  }

  private reject(
    peerId: string,
    code:
      | 'CONSENSUS_MALFORMED'
      | 'CONSENSUS_BAD_SIGNATURE'
      | 'CONSENSUS_UNKNOWN_VALIDATOR'
      | 'CONSENSUS_WRONG_PROPOSER',
    reason: string,
    cause?: unknown,
  ): ConsensusVerdict {
    if (cause !== undefined && !(cause instanceof DecodeError)) throw cause;
    const error = new VerificationError(code, reason);
    this.m.penalise(peerId, error.penalty, error.message);
    return 'reject';
  }

  private enqueue(event: BftEvent<Block>, wal: boolean): void {
    this.queue.push({ event, wal });
  }

  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
        if (this.stopped) break;
        if (item.wal && item.event.kind === 'timeout' && !this.replaying) {
          const { height, round, step: s } = item.event;
          this.m.wal.append({ kind: 'timeout', height, round, step: s });
        }
        const before = this.state;
        const result = step(before, item.event);
        this.state = result.state;
        this.m.observer?.observe(before, item.event, result.state, result.actions);
        if (before.step === 'new-height' && result.state.step !== 'new-height')
          this.heightStartedAt = this.m.clock.now();
        if (
          this.roundChange === null ||
          before.height !== result.state.height ||
          before.round !== result.state.round
        ) {
          this.roundChange = {
            height: result.state.height,
            round: result.state.round,
            atMs: this.m.clock.now(),
          };
        }
        for (const action of result.actions) this.perform(action);
      }
    } finally {
      this.draining = false;
    }
    this.releaseHeld();
  }

  /** Feeds what arrived for this height while the last one was committing. */
  private releaseHeld(): void {
    if (this.stopped || this.replaying) return;
    const held = this.nextHeight.takeFor(this.state.height);
    if (held === null) return;
    this.m.logger.debug(
      { height: this.state.height, proposals: held.proposals.length, votes: held.votes.length },
      'consensus: feeding messages held from before this height',
    );
    for (const { peerId, proposal } of held.proposals)
      this.receiveDecodedProposal(peerId, proposal);
    for (const { peerId, vote } of held.votes) this.receiveDecodedVote(peerId, vote);
  }

  private perform(a: BftAction<Block>): void {
    switch (a.kind) {
      case 'broadcast-vote':
        this.sendVote(a);
        return;
      case 'request-proposal':
        this.background(async () => {
          const block = await this.m.host.proposeBlock(a.height, a.round);
          // Moved on meanwhile, or the round's proposal came back from the WAL on replay.
          const s = this.state;
          if (block === null || s.height !== a.height || s.round !== a.round) return;
          if ((s.rounds.get(a.round)?.proposal ?? null) !== null) return;
          this.sendProposal(a.height, a.round, -1, block);
        }, 'building a proposal');
        return;
      case 'broadcast-proposal':
        this.sendProposal(a.height, a.round, a.polRound, a.block);
        return;
      case 'schedule-timeout':
        if (a.step === 'commit') {
          this.armCommit(a, this.commitDelay(a.durationMs));
          return;
        }
        this.arm(a.durationMs, () => this.timeout(a));
        return;
      case 'validate-proposal':
        this.background(async () => {
          const valid = await this.m.host.validateProposal(a.block);
          this.enqueue(
            { kind: 'proposal-validated', height: a.height, blockHash: a.blockHash, valid },
            false,
          );
          this.drain();
        }, 'validating a proposal');
        return;
      case 'commit':
        this.background(async () => {
          await this.m.host.commitBlock(a.block, a.certificate);
          this.m.wal.endHeight(a.height);
          const validators = this.m.host.validatorsAt(a.height + 1);
          this.enqueue({ kind: 'block-committed', height: a.height, validators }, false);
          this.drain();
        }, `committing block ${a.height}`);
        return;
      case 'evidence': {
        const evidence: EvidenceMessage = { kind: 1, voteA: a.voteA, voteB: a.voteB };
        this.m.logger.warn(
          {
            event: 'evidence',
            validatorIndex: a.voteA.validatorIndex,
            height: a.voteA.height,
            round: a.voteA.round,
            type: a.voteA.type,
          },
          'duplicate vote evidence',
        );
        if (!this.replaying) this.m.transport.broadcastEvidence(encodeEvidence(evidence));
        this.m.onEvidence?.(evidence);
        return;
      }
      case 'round-changed':
        if (a.round > 0) {
          this.m.logger.warn(
            { event: 'round-change', height: a.height, round: a.round, reason: a.reason },
            'consensus round change',
          );
        }
        return;
    }
  }

  /**
   * The block interval counts from the start of the previous height's round
   * 0, not from its commit: the time a height spends proposing, voting and
   * committing is part of the interval, so blocks come every interval (or as
   * fast as consensus allows when it needs longer) instead of every interval
   * plus that time. Timing only: no consensus result depends on it.
   */
  private commitDelay(intervalMs: number): number {
    if (this.heightStartedAt === null) return intervalMs;
    const elapsed = this.m.clock.now() - this.heightStartedAt;
    // Never less than a quarter interval after the commit: validators that
    // commit later than this one drop a proposal of a height they have not
    // reached, and would then wait for catch-up or a round timeout.
    const floor = intervalMs * MIN_COMMIT_WAIT_SHARE;
    return Math.max(floor, Math.min(intervalMs, intervalMs - elapsed));
  }

  /**
   * Nothing to propose yet (BftHost.hasWork): look again shortly, so that
   * the first transaction after a quiet spell waits for at most a poll, not
   * for another whole interval (the interval since the last height has
   * passed by then).
   */
  private armCommit(a: Extract<BftAction<Block>, { kind: 'schedule-timeout' }>, ms: number): void {
    this.arm(ms, () => {
      if (this.m.host.hasWork?.() === false) {
        this.armCommit(a, Math.min(a.durationMs, IDLE_POLL_MS));
        return;
      }
      this.timeout(a);
    });
  }

  private timeout(a: Extract<BftAction<Block>, { kind: 'schedule-timeout' }>): void {
    this.enqueue({ kind: 'timeout', height: a.height, round: a.round, step: a.step }, true);
    this.drain();
  }

  private arm(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const handle = this.m.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(handle);
  }

  private sendVote(a: Extract<BftAction<Block>, { kind: 'broadcast-vote' }>): void {
    const signer = this.m.signer;
    if (signer === null) return;
    let signed: SignedMessage;
    try {
      signed = signer.signVote(a.type, a.height, a.round, a.blockHash);
    } catch (error) {
      this.signRefused(error, a.height, a.round, 'vote');
      return;
    }
    const vote: SignedVote = {
      ...stripKind(a),
      validatorIndex: this.state.me,
      signature: signed.signature,
    };
    // Also while replaying: a duplicate record or message is harmless, a vote
    // signed just before a crash but never sent would otherwise stay unsent.
    const logged = this.m.wal.appendDurable({ kind: 'vote', vote });
    this.sendWhenDurable(signed, logged, `vote ${a.height}/${a.round}`, () => {
      this.m.transport.broadcastVote(encodeVote(vote));
      this.enqueue({ kind: 'vote', vote }, false);
    });
  }

  /**
   * Sends an own message once both the signer state and the WAL record are on
   * disk. The two fsyncs run at once and off the event loop, so a slow disk
   * delays this message only, not every other message, timer and request. A
   * failed write sends nothing: the message may not be remembered after a
   * crash, and the signer refuses all further requests.
   */
  private sendWhenDurable(
    signed: SignedMessage,
    logged: Promise<void>,
    what: string,
    send: () => void,
  ): void {
    this.background(async () => {
      await Promise.all([signed.durable, logged]);
      if (this.stopped) return;
      send();
      this.drain();
    }, `sending own ${what}`);
  }

  private sendProposal(height: number, round: number, polRound: number, block: Block): void {
    const signer = this.m.signer;
    if (signer === null) return;
    const wirePol = polRound === -1 ? NO_POL_ROUND : polRound;
    let signed: SignedMessage;
    try {
      signed = signer.signProposal(height, round, wirePol, block.hash);
    } catch (error) {
      this.signRefused(error, height, round, 'proposal');
      return;
    }
    const msg: ProposalMessage = {
      height,
      round,
      polRound: wirePol,
      block,
      proposerIndex: this.state.me,
      signature: signed.signature,
    };
    const logged = this.m.wal.appendDurable({ kind: 'proposal', proposal: msg });
    this.sendWhenDurable(signed, logged, `proposal ${height}/${round}`, () => {
      this.m.transport.broadcastProposal(encodeProposal(msg));
      this.m.observer?.ownProposal();
      this.enqueue({ kind: 'proposal', proposal: toEngineProposal(msg) }, false);
    });
  }

  /**
   * A refusal below the last signed position is what `utxod rollback` on a
   * validator leaves: one warning from the signer explains it, the repeats are
   * debug. Anything else the signer refuses is an error worth a stack.
   */
  private signRefused(error: unknown, height: number, round: number, what: string): void {
    if (error instanceof DoubleSignError && error.belowLastSigned) {
      const notice = this.m.signer?.takeRefusalNotice() ?? null;
      if (notice !== null) this.m.logger.warn({ ...notice.fields, height, round }, notice.msg);
      else this.m.logger.debug({ code: error.code, height, round }, `${what} not signed`);
      return;
    }
    this.m.logger.error({ err: asError(error), height, round }, `${what} not signed`);
  }

  private background(work: () => Promise<void>, what: string): void {
    const p = work()
      .catch((error: unknown) => {
        this.m.logger.error(
          { err: asError(error), height: this.state.height },
          `consensus: ${what} failed`,
        );
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private scheduleFlush(): void {
    if (this.stopped) return;
    this.flushTimer = this.m.clock.setTimeout(() => {
      this.m.wal.flush();
      this.scheduleFlush();
    }, this.opts.walFlushMs ?? 2000);
  }
}

function stripKind(a: Extract<BftAction<Block>, { kind: 'broadcast-vote' }>) {
  return { type: a.type, height: a.height, round: a.round, blockHash: a.blockHash };
}

export function toEngineProposal(p: ProposalMessage): SignedProposal<Block> {
  return {
    height: p.height,
    round: p.round,
    polRound: p.polRound === NO_POL_ROUND ? -1 : p.polRound,
    blockHash: p.block.hash,
    block: p.block,
    proposerIndex: p.proposerIndex,
    signature: p.signature,
  };
}
