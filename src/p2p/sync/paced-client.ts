/**
 * The req/resp client as sync uses it: the same interface (`SyncClient`, a
 * part of ReqRespClient), with block ranges of any length split into
 * protocol-sized requests and paced under the server's quota, transaction
 * lists split likewise, and req/resp errors graded for sync.
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
  type ReqRespClient,
  ReqRespError,
  type RequestOptions,
  type StatusMessage,
} from '../reqresp/index.ts';
import { Penalty } from '../scoring.ts';
import { SyncError } from './errors.ts';
import type { SyncClient } from './network.ts';

export interface PacedClientOptions {
  /** Client-side pacing of blocks-by-range requests per peer, under the server's inbound quota. */
  readonly rangeQuota: { readonly requests: number; readonly perMs: number };
}

const DEFAULT_OPTIONS: PacedClientOptions = {
  // Stay a little under the server's bucket so sync is never rate limited (and penalised).
  rangeQuota: {
    requests: Math.max(1, blocksByRangeProtocol.quota.requests - 2),
    perMs: Math.ceil(blocksByRangeProtocol.quota.perMs * 1.05),
  },
};

/** Buckets of peers not asked for this long are full again and forgotten (bounded memory). */
const BUCKET_IDLE_MS = 10 * 60_000;

export class PacedClient implements SyncClient {
  private readonly opts: PacedClientOptions;
  private readonly client: SyncClient;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    opts: Partial<PacedClientOptions>,
    modules: { client: ReqRespClient | SyncClient; logger: Logger; clock?: Clock },
  ) {
    this.opts = { ...DEFAULT_OPTIONS, ...opts };
    this.client = modules.client;
    this.logger = modules.logger;
    this.clock = modules.clock ?? systemClock;
  }

  async getStatus(peerId: string, options?: RequestOptions): Promise<StatusMessage> {
    try {
      return await this.client.getStatus(peerId, options);
    } catch (error) {
      throw toSyncError(error);
    }
  }

  /** Any `count`: asked in protocol-sized, paced requests; stops at the peer's tip. */
  async getBlocksByRange(
    peerId: string,
    start: number,
    count: number,
    options: RequestOptions = {},
  ): Promise<BlockWithCommit[]> {
    const items: BlockWithCommit[] = [];
    while (items.length < count) {
      const at = start + items.length;
      const n = Math.min(MAX_BLOCKS_PER_REQUEST, count - items.length);
      await this.takeToken(peerId, options.signal);
      let chunk: BlockWithCommit[];
      try {
        chunk = await this.client.getBlocksByRange(peerId, at, n, options);
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

  async getMempoolTxids(peerId: string, options?: RequestOptions): Promise<Uint8Array[]> {
    try {
      return await this.client.getMempoolTxids(peerId, options);
    } catch (error) {
      throw toSyncError(error);
    }
  }

  /** Any number of txids: asked MAX_TXIDS_PER_REQUEST at a time. */
  async getTransactions(
    peerId: string,
    txids: readonly Uint8Array[],
    options?: RequestOptions,
  ): Promise<Transaction[]> {
    const out: Transaction[] = [];
    for (let i = 0; i < txids.length; i += MAX_TXIDS_PER_REQUEST) {
      try {
        const batch = txids.slice(i, i + MAX_TXIDS_PER_REQUEST);
        out.push(...(await this.client.getTransactions(peerId, batch, options)));
      } catch (error) {
        throw toSyncError(error);
      }
    }
    return out;
  }

  /** Waits for a request token of the peer's bucket (aborts with the signal). */
  private async takeToken(peerId: string, signal: AbortSignal | undefined): Promise<void> {
    const { requests, perMs } = this.opts.rangeQuota;
    for (;;) {
      const now = this.clock.now();
      if (this.buckets.size > 1_000) {
        for (const [id, b] of this.buckets)
          if (now - b.at > BUCKET_IDLE_MS) this.buckets.delete(id);
      }
      const bucket = this.buckets.get(peerId) ?? { tokens: requests, at: now };
      bucket.tokens = Math.min(requests, bucket.tokens + ((now - bucket.at) * requests) / perMs);
      bucket.at = now;
      this.buckets.set(peerId, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return;
      }
      const waitMs = Math.ceil(((1 - bucket.tokens) * perMs) / requests);
      this.logger.trace({ peer: peerId, waitMs }, 'sync: pacing range requests');
      await this.sleep(waitMs, signal);
    }
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.clock.clearTimeout(timer);
        reject(new SyncError('SYNC_TIMEOUT', 'aborted while pacing requests'));
      };
      const timer = this.clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      if (signal?.aborted === true) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
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
