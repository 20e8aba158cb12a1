/**
 * Sync's peer interfaces over the request/response layer (`src/p2p/reqresp`):
 *
 * | SyncPeerSet / SyncPeer        | req/resp                                        |
 * |-------------------------------|-------------------------------------------------|
 * | peers()                       | PeerSource.connectedPeers() (handshaken peers)  |
 * | onPeerAdded / onPeerStatus    | 'peer:status' (first one for a peer = added)    |
 * | onPeerRemoved                 | 'peer:disconnected'                             |
 * | onAheadHint                   | 'block:ahead' (a gossiped block above tip + 1)  |
 * | status()                      | the last handshake status if recent, else getStatus |
 * | blocksByRange(start, count)   | getBlocksByRange in chunks of MAX_BLOCKS_PER_REQUEST, paced under the server's quota |
 * | transactionsById(txids)       | getTransactions in chunks of MAX_TXIDS_PER_REQUEST |
 * | penalize(penalty, reason)     | PeerSource.reportPeer                           |
 * | mempoolTxids()                | getMempoolTxids                                 |
 *
 * req/resp already penalises what it detects itself (undecodable or
 * unrequested items, its own timeouts), so its errors reach sync with
 * penalty 0 (sync re-queues the range and rests the peer) or a small one
 * for transport failures.
 */
import type { Logger } from 'pino';
import type { Transaction } from '../../primitives/index.ts';
import { type Clock, systemClock } from '../../util/index.ts';
import {
  type BlockWithCommit,
  blocksByRangeProtocol,
  MAX_BLOCKS_PER_REQUEST,
  MAX_TXIDS_PER_REQUEST,
  type PeerInfo,
  type PeerSource,
  type ReqRespClient,
  ReqRespError,
  statusProtocol,
} from '../reqresp/index.ts';
import { Penalty } from '../scoring.ts';
import { SyncError } from './errors.ts';
import type { PeerChainStatus, SyncPeer, SyncPeerSet } from './peer-source.ts';

export interface ReqRespPeerSetOptions {
  /** A status younger than this is answered from the last handshake instead of the network. */
  readonly statusMaxAgeMs: number;
  /** Client-side pacing of blocks-by-range requests per peer, under the server's inbound quota. */
  readonly rangeQuota: { readonly requests: number; readonly perMs: number };
}

const DEFAULT_OPTIONS: ReqRespPeerSetOptions = {
  // The server allows statusProtocol.quota (5 per 15 s); the host's own refresh uses some.
  statusMaxAgeMs: Math.ceil((statusProtocol.quota.perMs / statusProtocol.quota.requests) * 2),
  // Stay a little under the server's bucket so sync is never rate limited (and penalised).
  rangeQuota: {
    requests: Math.max(1, blocksByRangeProtocol.quota.requests - 2),
    perMs: Math.ceil(blocksByRangeProtocol.quota.perMs * 1.05),
  },
};

export class ReqRespPeerSet implements SyncPeerSet {
  private readonly opts: ReqRespPeerSetOptions;
  private readonly client: ReqRespClient;
  private readonly source: PeerSource;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly known = new Map<string, ReqRespSyncPeer>();

  constructor(
    opts: Partial<ReqRespPeerSetOptions>,
    modules: {
      client: ReqRespClient;
      source: PeerSource;
      logger: Logger;
      clock?: Pick<Clock, 'now'>;
    },
  ) {
    this.opts = { ...DEFAULT_OPTIONS, ...opts };
    this.client = modules.client;
    this.source = modules.source;
    this.logger = modules.logger;
    const clock = modules.clock ?? systemClock;
    this.now = () => clock.now();
    for (const info of this.source.connectedPeers()) this.peerFor(info);
  }

  peers(): readonly SyncPeer[] {
    for (const info of this.source.connectedPeers()) this.peerFor(info);
    return [...this.known.values()];
  }

  onPeerAdded(listener: (peer: SyncPeer) => void): () => void {
    const handler = (info: PeerInfo) => {
      const isNew = !this.known.has(info.peerId);
      const peer = this.peerFor(info);
      if (isNew) listener(peer);
    };
    this.source.events.on('peer:status', handler);
    return () => this.source.events.off('peer:status', handler);
  }

  onPeerRemoved(listener: (peerId: string) => void): () => void {
    const handler = ({ peerId }: { peerId: string }) => {
      this.known.delete(peerId);
      listener(peerId);
    };
    this.source.events.on('peer:disconnected', handler);
    return () => this.source.events.off('peer:disconnected', handler);
  }

  onPeerStatus(listener: (peerId: string, status: PeerChainStatus) => void): () => void {
    const handler = (info: PeerInfo) => {
      this.peerFor(info);
      listener(info.peerId, { height: info.status.tipHeight, hash: info.status.tipHash });
    };
    this.source.events.on('peer:status', handler);
    return () => this.source.events.off('peer:status', handler);
  }

  onAheadHint(listener: (peerId: string, height: number) => void): () => void {
    const handler = ({ peerId, height }: { peerId: string; height: number }) =>
      listener(peerId, height);
    this.source.events.on('block:ahead', handler);
    return () => this.source.events.off('block:ahead', handler);
  }

  private peerFor(info: PeerInfo): ReqRespSyncPeer {
    let peer = this.known.get(info.peerId);
    if (peer === undefined) {
      peer = new ReqRespSyncPeer(info.peerId, this.opts, {
        client: this.client,
        source: this.source,
        logger: this.logger,
        now: this.now,
      });
      this.known.set(info.peerId, peer);
    }
    peer.noteStatus({ height: info.status.tipHeight, hash: info.status.tipHash });
    return peer;
  }
}

/** One peer, through the req/resp client. */
export class ReqRespSyncPeer implements SyncPeer {
  readonly id: string;
  private readonly opts: ReqRespPeerSetOptions;
  private readonly client: ReqRespClient;
  private readonly source: PeerSource;
  private readonly logger: Logger;
  private readonly now: () => number;
  private lastStatus: { status: PeerChainStatus; at: number } | null = null;
  private tokens: number;
  private tokensAt: number;

  constructor(
    id: string,
    opts: ReqRespPeerSetOptions,
    modules: { client: ReqRespClient; source: PeerSource; logger: Logger; now: () => number },
  ) {
    this.id = id;
    this.opts = opts;
    this.client = modules.client;
    this.source = modules.source;
    this.logger = modules.logger;
    this.now = modules.now;
    this.tokens = opts.rangeQuota.requests;
    this.tokensAt = this.now();
  }

  noteStatus(status: PeerChainStatus): void {
    this.lastStatus = { status, at: this.now() };
  }

  async status(signal: AbortSignal): Promise<PeerChainStatus> {
    const last = this.lastStatus;
    if (last !== null && this.now() - last.at < this.opts.statusMaxAgeMs) return last.status;
    try {
      const status = await this.client.getStatus(this.id, { signal });
      const result = { height: status.tipHeight, hash: status.tipHash };
      this.noteStatus(result);
      return result;
    } catch (error) {
      throw toSyncError(error);
    }
  }

  async blocksByRange(
    start: number,
    count: number,
    signal: AbortSignal,
  ): Promise<BlockWithCommit[]> {
    const items: BlockWithCommit[] = [];
    while (items.length < count) {
      const at = start + items.length;
      const n = Math.min(MAX_BLOCKS_PER_REQUEST, count - items.length);
      await this.takeToken(signal);
      let chunk: BlockWithCommit[];
      try {
        chunk = await this.client.getBlocksByRange(this.id, at, n, { signal });
      } catch (error) {
        // What arrived before the failure is still good to use.
        if (items.length > 0) return items;
        throw toSyncError(error);
      }
      items.push(...chunk);
      if (chunk.length < n) break; // the peer's tip (or its response limit)
    }
    return items;
  }

  async mempoolTxids(signal: AbortSignal): Promise<Uint8Array[]> {
    try {
      return await this.client.getMempoolTxids(this.id, { signal });
    } catch (error) {
      throw toSyncError(error);
    }
  }

  async transactionsById(
    txids: readonly Uint8Array[],
    signal: AbortSignal,
  ): Promise<Transaction[]> {
    const out: Transaction[] = [];
    for (let i = 0; i < txids.length; i += MAX_TXIDS_PER_REQUEST) {
      try {
        out.push(
          ...(await this.client.getTransactions(
            this.id,
            txids.slice(i, i + MAX_TXIDS_PER_REQUEST),
            {
              signal,
            },
          )),
        );
      } catch (error) {
        throw toSyncError(error);
      }
    }
    return out;
  }

  penalize(penalty: number, reason: string): void {
    if (penalty <= 0) return;
    this.source.reportPeer(this.id, penalty, `sync: ${reason}`);
  }

  /** Waits for a request token of this peer's bucket (aborts with the signal). */
  private async takeToken(signal: AbortSignal): Promise<void> {
    const { requests, perMs } = this.opts.rangeQuota;
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(requests, this.tokens + ((now - this.tokensAt) * requests) / perMs);
      this.tokensAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - this.tokens) * perMs) / requests);
      this.logger.trace({ peer: this.id, waitMs }, 'sync: pacing range requests');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, waitMs);
        const onAbort = () => {
          clearTimeout(timer);
          reject(new SyncError('SYNC_TIMEOUT', 'aborted while pacing requests'));
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  }
}

/** req/resp errors as sync sees them: what req/resp already punished costs nothing more. */
function toSyncError(error: unknown): unknown {
  if (!(error instanceof ReqRespError)) return error;
  let penalty: number;
  switch (error.code) {
    case 'REQRESP_INVALID_RESPONSE': // req/resp penalised it (malformed or unrequested)
    case 'REQRESP_TIMEOUT': // req/resp penalised it
    case 'REQRESP_ABORTED': // we gave up
    case 'REQRESP_INVALID_REQUEST': // our side
    case 'REQRESP_SERVER_ERROR': // rate limited or busy: rest it, no blame
      penalty = 0;
      break;
    default:
      penalty = Penalty.requestFailed;
  }
  const code =
    error.code === 'REQRESP_INVALID_RESPONSE'
      ? 'SYNC_PROTOCOL_VIOLATION'
      : error.code === 'REQRESP_TIMEOUT' || error.code === 'REQRESP_ABORTED'
        ? 'SYNC_TIMEOUT'
        : 'SYNC_REQUEST_FAILED';
  return new SyncError(code, error.message, { reqresp: error.code, peer: error.peerId }, penalty);
}
