/**
 * The shapes block sync works with: what it needs from the chain, importer and
 * node (so tests can hand it small fakes), its options and its observer events.
 */
import type { Logger } from 'pino';
import type { ConsensusParams, ValidatorSet } from '../../consensus/index.ts';
import type { Block, CommitCertificate, Outpoint, TxOutput } from '../../primitives/index.ts';
import type { Clock } from '../../util/index.ts';
import type { SyncMempool } from './mempool-catchup.ts';
import type { SyncMetrics } from './metrics.ts';
import type { PeerSource, SyncClient } from './network.ts';
import type { RangeSignatureChecker } from './range-check.ts';
import type { SyncState } from './status.ts';

/** The chain as sync reads it (src/chain/chain.ts's Chain fits). */
export interface SyncChain {
  readonly tipHeight: number;
  readonly tip: { readonly height: number; readonly hash: Uint8Array };
  readonly params: ConsensusParams;
  readonly validators: ValidatorSet;
  /** The set that signs `height` as far as the chain knows it (tip + 2 at most). */
  validatorsAt(height: number): ValidatorSet;
  readonly chainIdHash: Uint8Array;
  /**
   * Unspent outputs by outpoint. When present, transaction signatures whose
   * spent outputs are known are verified in the range's batch, ahead of import.
   */
  getCoins?(outpoints: readonly Outpoint[]): Promise<ReadonlyArray<TxOutput | undefined>>;
}

/** The node's import path (src/node/block-importer.ts's BlockImporter fits). */
export interface SyncImporter {
  importBlock(
    block: Block,
    commit: CommitCertificate,
    source: 'sync',
  ): Promise<{ readonly height: number; readonly txCount: number }>;
}

/** Where transactions fetched after catch-up go (the Mempool fits). */
export type { SyncMempool };

export interface SyncOptions {
  /** Blocks per range request. */
  readonly rangeSize: number;
  /** Range requests outstanding at once, over all peers. */
  readonly maxRangesInFlight: number;
  readonly maxRequestsPerPeer: number;
  /** How far above the tip ranges are scheduled. */
  readonly windowBlocks: number;
  /** No new ranges are scheduled while downloaded, not yet connected blocks hold this many bytes. */
  readonly maxBufferedBytes: number;
  readonly requestTimeoutMs: number;
  readonly statusTimeoutMs: number;
  readonly statusIntervalMs: number;
  /** A peer's status younger than this (from the handshake or the host's refresh) is not asked again. */
  readonly statusMaxAgeMs: number;
  readonly progressLogIntervalMs: number;
  /** A peer that stalled or failed gets no new work for this long. */
  readonly peerCooldownMs: number;
  /** While synced, a lag up to this many blocks is left to gossip for `followGraceMs`. */
  readonly followLagBlocks: number;
  readonly followGraceMs: number;
  /** Fetch peers' mempools (and transactions announced while syncing) after catch-up. */
  readonly mempoolSync: boolean;
  /** Bound on transactions and announcements kept while syncing. */
  readonly maxDeferredTxs: number;
  /** Blocks asked of a peer whose claims are not backed yet (its first request, or after a refutation). */
  readonly probeBlocks: number;
  /** How long such a probe may take before the claim counts as refuted. */
  readonly probeTimeoutMs: number;
  /** Peers whose claims must reach a height for it to be trusted without proof. */
  readonly minAgreeingPeers: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  rangeSize: 64,
  maxRangesInFlight: 8,
  maxRequestsPerPeer: 2,
  windowBlocks: 1024,
  maxBufferedBytes: 256 * 1024 * 1024,
  requestTimeoutMs: 20_000,
  statusTimeoutMs: 5_000,
  statusIntervalMs: 5_000,
  // The server allows statusProtocol.quota (5 per 15 s); the host's own refresh uses some.
  statusMaxAgeMs: 6_000,
  progressLogIntervalMs: 5_000,
  peerCooldownMs: 10_000,
  followLagBlocks: 2,
  followGraceMs: 2_000,
  mempoolSync: true,
  maxDeferredTxs: 10_000,
  probeBlocks: 1,
  probeTimeoutMs: 5_000,
  minAgreeingPeers: 2,
};

export interface SyncModules {
  readonly chain: SyncChain;
  readonly importer: SyncImporter;
  /** Who is connected, their statuses and hints, and where penalties go (the P2PHost). */
  readonly peers: PeerSource;
  /** Requests by peer id (a PacedClient over the host's req/resp engine). */
  readonly client: SyncClient;
  /** The node's SignatureChecker (signature cache + parallel verifier); null skips the pre-check. */
  readonly signatures: RangeSignatureChecker | null;
  readonly mempool: SyncMempool | null;
  readonly logger: Logger;
  readonly metrics: SyncMetrics | null;
  readonly clock?: Clock;
}

export interface SyncEvents {
  state: [SyncState];
  /** A range connected: the new tip height. */
  progress: [number];
  /** Mempool sync after catch-up finished: transactions added. */
  mempoolSynced: [number];
}
