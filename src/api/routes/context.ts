import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Chain } from '../../chain/index.ts';
import type { Mempool } from '../../mempool/index.ts';
import type { AccessLevel, RateLimitClass } from '../auth/roles.ts';
import type { ConsensusQueries, StakingQueries } from '../queries.ts';
import type { StreamHub } from '../stream-hub.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Served while a state sync runs (the route does not read the chain, or
     * reports the sync itself); every other route then answers 503
     * STATE_SYNC_IN_PROGRESS.
     */
    duringStateSync?: boolean;
  }
}

/**
 * Who may call a route: the auth plugin (src/api/auth, which declares
 * `config.auth` and `config.rateLimitClass` on Fastify's route config) reads
 * it from every route. A route without it is treated as 'admin'.
 */
export type AuthRole = AccessLevel;
export type { RateLimitClass };

export type ApiApp = FastifyInstance<
  Server,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/**
 * What the p2p layer knows and the API reports; until networking exists the
 * node answers with the single-node defaults (`staticStatus`).
 */
/** Block-sync progress as the node-status route reports it (src/p2p/sync SyncStatus). */
export interface SyncProgress {
  readonly state: 'idle' | 'syncing' | 'synced';
  readonly currentHeight: number;
  readonly targetHeight: number;
  readonly blocksPerSecond: number;
  readonly etaSeconds: number | null;
}

/** State-sync progress as the node-status route reports it (src/snapshot StateSyncStatus). */
export interface StateSyncProgress {
  readonly phase: 'discovering' | 'fetching' | 'done';
  /** Height of the snapshot being fetched; null while discovering. */
  readonly height: number | null;
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly bytesDone: number;
  readonly etaSeconds: number | null;
  readonly peers: number;
}

export interface NodeStatusSource {
  readonly syncing: boolean;
  readonly peers: number;
  readonly listenAddrs: readonly string[];
  /** Null when the node runs no sync (no P2P layer). */
  readonly sync: SyncProgress | null;
  /** The state sync this process ran or is running; null or absent when none. */
  readonly stateSync?: StateSyncProgress | null;
  /**
   * True while a state sync builds the chain: the chain the API holds is the
   * genesis-only placeholder the snapshot will replace, so every route that
   * reads it answers 503 STATE_SYNC_IN_PROGRESS.
   */
  readonly stateSyncRunning?: boolean;
}

export const staticStatus: NodeStatusSource = {
  syncing: false,
  peers: 0,
  listenAddrs: [],
  sync: null,
};

/** What the admin peer routes need from the P2P layer (src/p2p/host.ts P2PHost). */
export interface PeerAdmin {
  listPeers(): ReadonlyArray<{
    peerId: string;
    remoteAddr: string;
    direction: 'inbound' | 'outbound';
    score: number;
    status: { tipHeight: number; tipHash: string; protocolVersion: number } | null;
  }>;
  listBans(): Promise<
    ReadonlyArray<{ peerId: string; bannedAt: number; expiresAt: number; reason: string }>
  >;
  ban(
    peerId: string,
    durationMs?: number,
    reason?: string,
  ): Promise<{ peerId: string; bannedAt: number; expiresAt: number; reason: string }>;
  unban(peerId: string): Promise<boolean>;
}

/** Operator actions that need more than the chain and mempool (the node supplies them). */
export interface AdminHooks {
  /** Writes the mempool snapshot now; returns where and how many transactions. */
  flushMempool?(): Promise<{ path: string; txs: number }>;
  /** Peer listing and bans, when the node runs a P2P layer. */
  peers?: PeerAdmin;
  /** A consistent backup of the node (snapshot/backup.ts), streamed. */
  backup?(opts: { includeKeys: boolean }): AsyncIterable<Uint8Array>;
}

export interface ApiContext {
  readonly chain: Chain;
  readonly mempool: Mempool;
  /** The root logger: the admin log-level route changes its level (children follow). */
  readonly logger: Logger;
  readonly status: NodeStatusSource;
  readonly admin: AdminHooks;
  readonly hub: StreamHub;
  readonly version: string;
  readonly startedAt: number;
  /** Not ready when the tip is older than this (0 disables the check). */
  readonly readyMaxTipAgeMs: number;
  /** The staking registry; absent on a node without a state store. */
  readonly staking?: StakingQueries;
  /** The BFT engine's state; absent on a node that runs none. */
  readonly consensus?: ConsensusQueries;
}
