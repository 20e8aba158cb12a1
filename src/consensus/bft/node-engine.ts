/**
 * The BFT engine as the node runs it: opens the WAL, computes the proposer
 * priorities of the next height, replays the height in progress and runs a
 * BftDriver on the real clock. With one validator it commits each block with
 * its own votes, one block per `blockIntervalMs` (the commit timeout).
 */

import type { Logger } from 'pino';
import type { Chain } from '../../chain/index.ts';
import type { SignatureVerifier } from '../../crypto/node.ts';
import type { ConsensusMetrics } from '../../metrics/index.ts';
import type { Block, CommitCertificate } from '../../primitives/index.ts';
import {
  asError,
  bytesEqual,
  bytesKey,
  type Clock,
  systemClock,
  type Timer,
  toHex,
} from '../../util/index.ts';
import type { ConsensusEngine, ConsensusHost } from '../engine.ts';
import { VerificationError } from '../errors.ts';
import type { VerifiedSignatureCache } from '../signatures.ts';
import type { ValidatorSigner } from '../validator-signer.ts';
import {
  BftDriver,
  type ConsensusTransport,
  type ConsensusVerdict,
  type PenaliseFn,
  type RoundChange,
} from './driver.ts';
import type { ConsensusSummary } from './engine.ts';
import { EvidenceIntake } from './evidence-intake.ts';
import type { EvidenceMessage, ProposalMessage, VoteMessage } from './messages.ts';
import { ConsensusObserver } from './observer.ts';
import { ProposerPriorities } from './proposer.ts';
import { type BftParams, DEFAULT_BFT_PARAMS, isNil } from './types.ts';
import { ConsensusWal } from './wal.ts';

export interface BftEngineOptions {
  readonly walPath: string;
  readonly blockIntervalMs: number;
  readonly params?: Partial<BftParams>;
}

export interface BftEngineModules {
  readonly host: ConsensusHost;
  readonly chain: Chain;
  readonly signer: ValidatorSigner | null;
  readonly transport: ConsensusTransport;
  readonly verifier: SignatureVerifier;
  readonly sigCache: VerifiedSignatureCache | null;
  readonly penalise: PenaliseFn;
  readonly logger: Logger;
  /** Where missed votes and proposals are fetched from; null: gossip only. */
  readonly catchup: ConsensusCatchupPeers | null;
  /** A peer is at a later height: block sync should look (throttled here). */
  readonly onAhead?: (peerId: string, height: number) => void;
  readonly metrics: ConsensusMetrics | null;
  /** Round timeouts and throttling (default: the system clock). */
  readonly clock?: Clock;
}

/**
 * Request/response catch-up as the node provides it (p2p's consensus_votes and
 * proposal_by_hash). Answers are untrusted: they go through the same decode,
 * signature and engine checks as gossip, and a bad one penalises its sender.
 */
export interface ConsensusCatchupPeers {
  /** Peers that passed the status handshake. */
  peerIds(): readonly string[];
  votes(peerId: string, height: number, round: number): Promise<readonly VoteMessage[]>;
  proposal(peerId: string, blockHash: Uint8Array): Promise<ProposalMessage | null>;
}

export type GossipedConsensus =
  | { readonly kind: 'proposal'; readonly message: ProposalMessage }
  | { readonly kind: 'vote'; readonly message: VoteMessage }
  | { readonly kind: 'evidence'; readonly message: EvidenceMessage };

/** How often the engine looks for a stalled round or a chain moved on by sync. */
const CATCHUP_TICK_MS = 1000;
/** Ticks without progress before peers are asked for what gossip did not bring. */
const STALLED_TICKS = 2;
/** Proposals fetched per catch-up tick: each can be a whole block. */
const MAX_PROPOSAL_FETCHES = 2;
const AHEAD_HINT_INTERVAL_MS = 1000;
/** Own blocks remembered as valid: a few rounds' worth. */
const MAX_OWN_BLOCKS = 16;

export class BftEngine implements ConsensusEngine {
  private readonly opts: BftEngineOptions;
  private readonly m: BftEngineModules;
  private readonly clock: Clock;
  private driver: BftDriver | null = null;
  private wal: ConsensusWal | null = null;
  /** Blocks this node built: valid by construction, no need to check them again. */
  private readonly own = new Set<string>();
  /** Verified duplicate-vote evidence, from our driver and from gossip. */
  readonly evidence: EvidenceIntake;
  /** Proposer priorities after the last height they were computed for. */
  private priorities: { height: number; proposers: ProposerPriorities } | null = null;
  private tick: Timer | null = null;
  private catchingUp: Promise<void> | null = null;
  private lastProgress = '';
  private stalledTicks = 0;
  private peerCursor = 0;
  private lastAheadHint = 0;
  /** What was fetched at once (not waiting for a stall) in the round `atOnceRound` (height/round). */
  private atOnceRound = '';
  private readonly fetchedAtOnce = new Set<string>();

  constructor(opts: BftEngineOptions, modules: BftEngineModules) {
    this.opts = opts;
    this.m = modules;
    this.clock = modules.clock ?? systemClock;
    const verifier = modules.verifier;
    this.evidence = new EvidenceIntake({
      chain: modules.chain,
      // The node's backend verifies one at a time; evidence is rare and small.
      verifier: {
        verifyBatch: async (jobs) => jobs.map((j) => verifier.verify(j.msg, j.sig, j.pub)),
      },
      penalise: modules.penalise,
      logger: modules.logger,
    });
  }

  get summary(): ConsensusSummary | null {
    return this.driver?.summary ?? null;
  }

  get lastRoundChange(): RoundChange | null {
    return this.driver?.lastRoundChange ?? null;
  }

  start(): void {
    if (this.driver !== null) return;
    const { chain, logger } = this.m;
    const { wal, replay } = ConsensusWal.open({ path: this.opts.walPath });
    if (replay.truncatedTail !== null) {
      logger.warn(
        { event: 'wal-torn-tail', path: this.opts.walPath, ...replay.truncatedTail },
        'cut off a consensus WAL record torn by a crash',
      );
    }
    this.wal = wal;
    const height = chain.tipHeight + 1;
    const proposers = this.proposersFor(height);
    this.driver = new BftDriver(
      {
        params: {
          ...DEFAULT_BFT_PARAMS,
          timeoutCommitMs: this.opts.blockIntervalMs,
          ...this.opts.params,
        },
        height,
      },
      {
        host: {
          chainIdHash: chain.chainIdHash,
          proposeBlock: (h) => this.proposeBlock(h),
          validateProposal: (block) => this.validateProposal(block),
          commitBlock: (block, certificate) => this.commitBlock(block, certificate),
          validatorsAt: (h) => chain.validatorsAt(h),
          hasWork: () => (this.m.host.hasWork?.() ?? true) || this.evidence.pool.size > 0,
        },
        transport: this.m.transport,
        clock: this.clock,
        signer: this.m.signer,
        wal,
        verifier: this.m.verifier,
        sigCache: this.m.sigCache,
        proposers,
        logger,
        penalise: this.m.penalise,
        onAhead: (peerId, h) => this.hintAhead(peerId, h),
        onEvidence: (e) => {
          this.evidence.receive(e, null).catch((error: unknown) => {
            this.m.logger.error({ err: asError(error) }, 'could not pool own evidence');
          });
        },
        observer: this.m.metrics === null ? null : new ConsensusObserver(this.m.metrics),
      },
    );
    const current = replay.endHeight === null || replay.endHeight === height - 1;
    this.driver.start(current ? replay.entries : []);
    this.scheduleTick();
  }

  async stop(): Promise<void> {
    if (this.tick !== null) this.clock.clearTimeout(this.tick);
    this.tick = null;
    await this.catchingUp;
    await this.driver?.stop();
    this.wal?.close();
    this.driver = null;
    this.wal = null;
  }

  /**
   * A block was connected (by consensus or by block sync): its evidence
   * leaves the pool, and each piece is logged at warn and counted.
   */
  onBlockConnected(block: Block): void {
    const committed = this.evidence.committed(block);
    if (committed > 0) this.m.metrics?.evidence.inc({ stage: 'committed' }, committed);
  }

  /** Catch-up source for the consensus_votes and proposal_by_hash protocols. */
  votesAt(height: number, round: number): VoteMessage[] {
    return this.driver?.votesAt(height, round) ?? [];
  }

  proposalByHash(blockHash: Uint8Array): ProposalMessage | null {
    return this.driver?.proposalByHash(blockHash) ?? null;
  }

  /** Gossip entry point (p2p's consensus handler). */
  async onGossip(peerId: string, g: GossipedConsensus): Promise<ConsensusVerdict> {
    const d = this.driver;
    if (d === null) return 'ignore';
    if (g.kind === 'vote') return d.receiveDecodedVote(peerId, g.message);
    if (g.kind === 'proposal') return d.receiveDecodedProposal(peerId, g.message);
    return this.evidence.receive(g.message, peerId);
  }

  private async proposeBlock(height: number): Promise<Block | null> {
    if (this.m.chain.tipHeight + 1 !== height) return null;
    const candidates = this.evidence.candidates(
      height,
      this.m.chain.params.staking.maxBlockEvidenceBytes,
    );
    const block = await this.m.host.proposeBlock({ evidence: candidates });
    if (block !== null) this.evidence.leftOut(candidates, block);
    if (block !== null) {
      if (this.own.size >= MAX_OWN_BLOCKS) this.own.clear();
      this.own.add(bytesKey(block.hash));
    }
    return block;
  }

  /**
   * Connects a block this engine decided. Gossip or block sync may have
   * connected the same block first (a peer relayed it with another commit
   * certificate): that is the same decision, not an error.
   */
  private async commitBlock(block: Block, certificate: CommitCertificate): Promise<void> {
    const { chain } = this.m;
    if (chain.tipHeight >= block.height) {
      const hash = await chain.getHashAt(block.height);
      if (hash !== undefined && bytesEqual(hash, block.hash)) return;
    }
    try {
      await this.m.host.commitBlock(block, certificate);
    } catch (error) {
      if (error instanceof VerificationError && error.code === 'BLOCK_ALREADY_CONNECTED') return;
      throw error;
    }
  }

  /**
   * The proposer priorities of `height`. Each height is one step of the
   * round robin over that height's set, so they are derived from genesis
   * once and then advanced height by height as the chain grows.
   */
  private proposersFor(height: number): ProposerPriorities {
    const chain = this.m.chain;
    let cached = this.priorities;
    if (cached === null || cached.height > height) {
      cached = { height: 1, proposers: ProposerPriorities.genesis(chain.validatorsAt(1)) };
    }
    let { proposers } = cached;
    for (let h = cached.height + 1; h <= height; h++) {
      proposers = proposers.next(chain.validatorsAt(h));
    }
    this.priorities = { height, proposers };
    return proposers;
  }

  private hintAhead(peerId: string, height: number): void {
    const now = this.clock.now();
    if (now - this.lastAheadHint < AHEAD_HINT_INTERVAL_MS) return;
    this.lastAheadHint = now;
    this.m.onAhead?.(peerId, height);
  }

  private scheduleTick(): void {
    this.tick = this.clock.setTimeout(() => {
      if (this.tick === null) return; // stopped
      this.onTick();
      this.scheduleTick();
    }, CATCHUP_TICK_MS);
  }

  private onTick(): void {
    const d = this.driver;
    if (d === null || this.catchingUp !== null) return;
    // Block sync or gossip connected the height this engine works on: move on.
    const tip = this.m.chain.tipHeight;
    if (tip >= d.height && !d.busy) {
      // With the certificate of the height it worked on: the driver compares
      // it with the votes it holds (a double sign this node saw only half of).
      const height = d.height;
      this.catchingUp = this.m.chain
        .getCommitAt(height)
        .then((certificate) => {
          if (this.driver === d && d.height === height)
            d.syncedTo(tip, this.proposersFor(tip + 1), certificate);
        })
        .catch((error: unknown) => {
          this.m.logger.error({ err: asError(error), height }, 'consensus: moving on after sync');
        })
        .finally(() => {
          this.catchingUp = null;
        });
      return;
    }
    const s = d.summary;
    // A re-proposal whose proof-of-lock prevotes this node missed: without them
    // it cannot prevote the block (line 28) and would prevote nil at the
    // propose timeout. Fetch that round at once, once per re-proposal; if that
    // peer lacks them, the stalled-round catch-up below asks others.
    const pol = d.missingPolRound;
    if (pol >= 0 && this.atOnce(s, `pol ${pol}`)) {
      this.startCatchUp(d, s.height, [pol]);
      return;
    }
    // More than a third voted for a block whose proposal gossip did not bring
    // (or brought before this node reached the height): fetch it by hash now,
    // before the propose timeout makes this node prevote nil.
    const missing = d.missingProposal;
    if (missing !== null && this.atOnce(s, toHex(missing))) {
      this.startCatchUp(d, s.height, [], [missing]);
      return;
    }
    const progress = `${s.height}/${s.round}/${s.step}`;
    if (progress !== this.lastProgress || s.step === 'new-height') {
      this.lastProgress = progress;
      this.stalledTicks = 0;
      return;
    }
    if (++this.stalledTicks < STALLED_TICKS || this.m.catchup === null) return;
    const rounds = s.round > 0 ? [s.round, s.round - 1] : [s.round];
    if (pol >= 0 && !rounds.includes(pol)) rounds.push(pol);
    this.startCatchUp(d, s.height, rounds);
  }

  /** True the first time `key` is asked for in a round (and catch-up is possible): one immediate fetch each. */
  private atOnce(s: ConsensusSummary, key: string): boolean {
    if (this.m.catchup === null) return false;
    const round = `${s.height}/${s.round}`;
    if (round !== this.atOnceRound) {
      this.atOnceRound = round;
      this.fetchedAtOnce.clear();
    }
    if (this.fetchedAtOnce.has(key)) return false;
    this.fetchedAtOnce.add(key);
    return true;
  }

  private startCatchUp(
    d: BftDriver,
    height: number,
    rounds: readonly number[],
    blocks: readonly Uint8Array[] = [],
  ): void {
    this.catchingUp = this.catchUp(d, height, rounds, blocks).finally(() => {
      this.catchingUp = null;
    });
  }

  /**
   * Gossip never resends: a validator that missed votes or a proposal asks one
   * peer (a different one each time) for the votes of `rounds` (this round and
   * the one before, and a re-proposal's proof-of-lock round), and for the
   * proposals of `blocks` and of those votes that it does not hold.
   */
  private async catchUp(
    d: BftDriver,
    height: number,
    rounds: readonly number[],
    blocks: readonly Uint8Array[],
  ): Promise<void> {
    const catchup = this.m.catchup;
    if (catchup === null) return;
    const peers = catchup.peerIds();
    if (peers.length === 0) return;
    const peer = peers[this.peerCursor++ % peers.length]!;
    const wanted = new Map<string, Uint8Array>(blocks.map((h) => [bytesKey(h), h]));
    try {
      for (const r of rounds) {
        for (const vote of await catchup.votes(peer, height, r)) {
          if (d.receiveDecodedVote(peer, vote) === 'reject') {
            this.m.metrics?.catchupRequests.inc({ result: 'rejected' });
            return;
          }
          if (!isNil(vote.blockHash) && !d.holdsProposal(vote.blockHash)) {
            wanted.set(bytesKey(vote.blockHash), vote.blockHash);
          }
        }
      }
      for (const hash of [...wanted.values()].slice(0, MAX_PROPOSAL_FETCHES)) {
        const proposal = await catchup.proposal(peer, hash);
        if (proposal !== null && d.receiveDecodedProposal(peer, proposal) === 'reject') {
          this.m.metrics?.catchupRequests.inc({ result: 'rejected' });
          return;
        }
      }
      this.m.metrics?.catchupRequests.inc({ result: 'answered' });
    } catch (error) {
      this.m.metrics?.catchupRequests.inc({ result: 'failed' });
      // A peer that times out or hangs up is the p2p layer's to score; the next tick asks another.
      this.m.logger.debug(
        { err: asError(error), peer, height, rounds },
        'consensus catch-up failed',
      );
    }
  }

  /**
   * A block this node built is valid by construction. A peer's block gets
   * every rule but its own commit (Chain.validateProposal), which keeps the
   * work for the commit; an invalid one gets a nil prevote, and a fault of
   * our own (a crashed verifier) too, since a nil prevote is always safe.
   */
  private async validateProposal(block: Block): Promise<boolean> {
    if (this.own.has(bytesKey(block.hash))) return true;
    try {
      await this.m.chain.validateProposal(block);
      return true;
    } catch (error) {
      if (error instanceof VerificationError) {
        this.m.logger.warn(
          {
            event: 'proposal-invalid',
            height: block.height,
            hash: toHex(block.hash),
            code: error.code,
            reason: error.reason,
          },
          'invalid proposal: prevoting nil',
        );
      } else {
        this.m.logger.error(
          { err: asError(error), height: block.height },
          'could not validate a proposal: prevoting nil',
        );
      }
      return false;
    }
  }
}
