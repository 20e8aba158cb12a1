/**
 * What the BFT driver is wired with and reports: the host (the node's chain),
 * the transport (gossip), its options and modules, and the verdict it gives a
 * received message. Kept apart from driver.ts so that file holds behaviour.
 */
import type { Logger } from 'pino';
import type { SignatureVerifier } from '../../crypto/node.ts';
import type { Block, CommitCertificate } from '../../primitives/index.ts';
import type { Clock } from '../../util/index.ts';
import type { VerifiedSignatureCache } from '../signatures.ts';
import type { ValidatorSet } from '../validator-set.ts';
import type { ValidatorSigner } from '../validator-signer.ts';
import type { EvidenceMessage } from './messages.ts';
import type { ConsensusObserver } from './observer.ts';
import type { ProposerPriorities } from './proposer.ts';
import type { BftParams } from './types.ts';
import type { ConsensusWal } from './wal.ts';

export interface ConsensusTransport {
  broadcastProposal(bytes: Uint8Array): void;
  broadcastVote(bytes: Uint8Array): void;
  broadcastEvidence(bytes: Uint8Array): void;
}

/** What the driver needs from the node. */
export interface BftHost {
  readonly chainIdHash: Uint8Array;
  /** A block for (height, round) on the current tip, or null if none can be built now. */
  proposeBlock(height: number, round: number): Promise<Block | null>;
  /**
   * Every block rule except the block's own commit. Called once per block hash
   * and height; the host keeps what it computed (the connect plan) for commit.
   */
  validateProposal(block: Block): Promise<boolean>;
  /**
   * Connects a final block. The certificate's signatures were verified by the
   * driver and are in the signature cache: the host does not verify them again.
   */
  commitBlock(block: Block, certificate: CommitCertificate): Promise<void>;
  /** The validator set of `height` (known once height - 1 is connected). */
  validatorsAt(height: number): ValidatorSet;
  /** False: nothing to propose yet, so the next height waits (see ConsensusHost.hasWork). */
  hasWork?(): boolean;
}

export type PenaliseFn = (peerId: string, penalty: number, reason: string) => void;

/** As gossip validators answer: taken in, dropped quietly, or proof of a bad peer. */
export type ConsensusVerdict = 'accept' | 'ignore' | 'reject';

export interface BftDriverOptions {
  readonly params: BftParams;
  /** The height to work on: the host's tip + 1. */
  readonly height: number;
  /** Buffered WAL records reach the OS at least this often. */
  readonly walFlushMs?: number;
}

export interface BftDriverModules {
  readonly host: BftHost;
  readonly transport: ConsensusTransport;
  /**
   * Timers for the round timeouts and WAL flushes; `now()` for reporting and
   * for pacing heights to the block interval (never for a consensus result).
   */
  readonly clock: Clock;
  /** Null for a node that follows consensus without a validator key. */
  readonly signer: ValidatorSigner | null;
  readonly wal: ConsensusWal;
  readonly verifier: SignatureVerifier;
  readonly sigCache: VerifiedSignatureCache | null;
  readonly proposers: ProposerPriorities;
  readonly logger: Logger;
  readonly penalise: PenaliseFn;
  readonly onEvidence?: (evidence: EvidenceMessage) => void;
  /** A peer sent a message of a later height: this node may need block sync. */
  readonly onAhead?: (peerId: string, height: number) => void;
  /** Metrics of the engine's transitions; null in tests and simulations. */
  readonly observer?: ConsensusObserver | null;
}

/** The (height, round) the engine last moved to, and when by the clock (null: it has none). */
export interface RoundChange {
  readonly height: number;
  readonly round: number;
  readonly atMs: number | null;
}
