/**
 * The BFT engine as the node runs it: opens the WAL, computes the proposer
 * priorities of the next height, replays the height in progress and runs a
 * BftDriver on the real clock. With one validator it commits each block with
 * its own votes, one block per `blockIntervalMs` (the commit timeout).
 */

import type { Logger } from 'pino';
import type { Chain } from '../../chain/index.ts';
import type { SignatureVerifier } from '../../crypto/node.ts';
import type { Block } from '../../primitives/index.ts';
import { bytesEqual, bytesKey } from '../../util/index.ts';
import type { ConsensusEngine, ConsensusHost } from '../engine.ts';
import type { VerifiedSignatureCache } from '../signatures.ts';
import type { ValidatorSigner } from '../validator-signer.ts';
import {
  BftDriver,
  type ConsensusTransport,
  type ConsensusVerdict,
  type PenaliseFn,
  systemClock,
} from './driver.ts';
import type { ConsensusSummary } from './engine.ts';
import type { ProposalMessage, VoteMessage } from './messages.ts';
import { ProposerPriorities } from './proposer.ts';
import { type BftParams, DEFAULT_BFT_PARAMS } from './types.ts';
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
}

export type GossipedConsensus =
  | { readonly kind: 'proposal'; readonly message: ProposalMessage }
  | { readonly kind: 'vote'; readonly message: VoteMessage }
  | { readonly kind: 'evidence'; readonly message: unknown };

export class BftEngine implements ConsensusEngine {
  private readonly opts: BftEngineOptions;
  private readonly m: BftEngineModules;
  private driver: BftDriver | null = null;
  private wal: ConsensusWal | null = null;
  /** Blocks this node built: valid by construction, no need to check them again. */
  private readonly own = new Set<string>();

  constructor(opts: BftEngineOptions, modules: BftEngineModules) {
    this.opts = opts;
    this.m = modules;
  }

  get summary(): ConsensusSummary | null {
    return this.driver?.summary ?? null;
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
    // The set is the genesis set until staking changes it: one increment per height.
    let proposers = ProposerPriorities.genesis(chain.validatorsAt(1));
    for (let h = 1; h < height; h++) proposers = proposers.next(chain.validatorsAt(h + 1));
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
          validateProposal: async (block) => this.validateProposal(block),
          commitBlock: (block, certificate) => this.m.host.commitBlock(block, certificate),
          validatorsAt: (h) => chain.validatorsAt(h),
          hasWork: () => this.m.host.hasWork?.() ?? true,
        },
        transport: this.m.transport,
        clock: systemClock,
        signer: this.m.signer,
        wal,
        verifier: this.m.verifier,
        sigCache: this.m.sigCache,
        proposers,
        logger,
        penalise: this.m.penalise,
      },
    );
    const current = replay.endHeight === null || replay.endHeight === height - 1;
    this.driver.start(current ? replay.entries : []);
  }

  async stop(): Promise<void> {
    await this.driver?.stop();
    this.wal?.close();
    this.driver = null;
    this.wal = null;
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
    return 'ignore';
  }

  private async proposeBlock(height: number): Promise<Block | null> {
    if (this.m.chain.tipHeight + 1 !== height) return null;
    const block = await this.m.host.proposeBlock();
    if (block !== null) this.own.add(bytesKey(block.hash));
    return block;
  }

  /**
   * A block this node built is valid. A peer's block gets the checks that need
   * no connect (height, parent); every other rule runs in commitBlock, as the
   * chain has no validate-without-connect step yet.
   */
  private validateProposal(block: Block): boolean {
    if (this.own.has(bytesKey(block.hash))) return true;
    const tip = this.m.chain.tip;
    return block.height === tip.height + 1 && bytesEqual(block.header.prevHash, tip.hash);
  }
}
