/**
 * The generic request/response engine: one libp2p protocol per descriptor,
 * length-prefixed frames (`lpStream` with `maxDataLength`), whole-request
 * deadlines, per-peer inbound quotas, and score penalties for peers that send
 * bytes that do not decode or exceed a bound. A bad frame only ever ends its
 * own stream.
 */
import type { Libp2p, Stream } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import type { Logger } from 'pino';
import { DecodeError } from '../../encoding/index.ts';
import type { Transaction } from '../../primitives/index.ts';
import { bytesEqual, bytesKey, type Clock, toHex } from '../../util/index.ts';
import type { ProposalMessage, VoteMessage } from '../consensus-messages.ts';
import type { BlockWithCommit, StatusMessage } from '../messages.ts';
import type { P2PMetrics } from '../metrics.ts';
import { Penalty } from '../scoring.ts';
import { ReqRespError } from './errors.ts';
import { blockByHashProtocol, handleBlockByHash } from './protocols/block-by-hash.ts';
import { blocksByRangeProtocol, handleBlocksByRange } from './protocols/blocks-by-range.ts';
import {
  consensusVotesHandler,
  consensusVotesProtocol,
  proposalByHashHandler,
  proposalByHashProtocol,
} from './protocols/consensus-catchup.ts';
import { type HandlerContext, type RequestHandler, RequestRefused } from './protocols/context.ts';
import { MAX_BLOCKS_PER_REQUEST, MAX_TXIDS_PER_REQUEST } from './protocols/limits.ts';
import { handleMempoolTxids, mempoolTxidsProtocol } from './protocols/mempool-txids.ts';
import {
  type SnapshotSource,
  snapshotChunkHandler,
  snapshotChunkProtocol,
  snapshotManifestHandler,
  snapshotManifestProtocol,
  snapshotsHandler,
  snapshotsProtocol,
} from './protocols/snapshots.ts';
import { handleStatus, statusProtocol } from './protocols/status.ts';
import { handleTransactions, transactionsProtocol } from './protocols/transactions.ts';
import { InboundQuota } from './rate-limiter.ts';
import type { PeerIdStr, ProtocolDescriptor, ReqRespClient, RequestOptions } from './types.ts';

/** First byte of every response frame. */
export const ResponseCode = { item: 0, error: 1, end: 2 } as const;
const MAX_ERROR_BYTES = 256;
/** How long a responder waits for the request frame. */
const INBOUND_READ_TIMEOUT_MS = 10_000;
/** How long a responder may take to write its whole response. */
const INBOUND_WRITE_TIMEOUT_MS = 60_000;

export const PROTOCOLS = [
  statusProtocol,
  blocksByRangeProtocol,
  blockByHashProtocol,
  transactionsProtocol,
  mempoolTxidsProtocol,
  consensusVotesProtocol,
  proposalByHashProtocol,
  snapshotsProtocol,
  snapshotManifestProtocol,
  snapshotChunkProtocol,
] as const;

type AnyDescriptor = ProtocolDescriptor<unknown, unknown>;

interface Registered {
  readonly descriptor: AnyDescriptor;
  readonly handler: RequestHandler<unknown, unknown>;
  readonly quota: InboundQuota;
  readonly byteQuota: InboundQuota | null;
}

export interface ReqRespModules {
  readonly libp2p: Pick<Libp2p, 'handle' | 'unhandle' | 'dialProtocol'>;
  readonly context: HandlerContext;
  readonly logger: Logger;
  readonly metrics: P2PMetrics | null;
  /** Lowers a peer's score (bans it at the threshold). */
  readonly penalize: (peerId: string, penalty: number, reason: string) => void;
  /**
   * Whether a peer may be served anything but `status`: only once its status
   * showed the same chain, genesis and version. Absent: every peer (test peers).
   */
  readonly handshaken?: (peerId: string) => boolean;
  /** Time for the inbound quotas (default the system clock). */
  readonly clock?: Pick<Clock, 'now'>;
}

export class ReqResp implements ReqRespClient {
  private readonly modules: ReqRespModules;
  private readonly registered = new Map<string, Registered>();
  private snapshotSource: SnapshotSource | null = null;

  constructor(modules: ReqRespModules) {
    this.modules = modules;
    this.register(statusProtocol, handleStatus);
    this.register(blocksByRangeProtocol, handleBlocksByRange);
    this.register(blockByHashProtocol, handleBlockByHash);
    this.register(transactionsProtocol, handleTransactions);
    this.register(mempoolTxidsProtocol, handleMempoolTxids);
    const consensus = () => this.modules.context.consensus?.() ?? null;
    this.register(consensusVotesProtocol, consensusVotesHandler(consensus));
    this.register(proposalByHashProtocol, proposalByHashHandler(consensus));
    const snapshots = () => this.snapshotSource;
    this.register(snapshotsProtocol, snapshotsHandler(snapshots));
    this.register(snapshotManifestProtocol, snapshotManifestHandler(snapshots));
    this.register(snapshotChunkProtocol, snapshotChunkHandler(snapshots));
  }

  /** Serve snapshots from `source` (null: serve none; peers get empty answers). */
  setSnapshotSource(source: SnapshotSource | null): void {
    this.snapshotSource = source;
  }

  private register<Req, Item>(
    descriptor: ProtocolDescriptor<Req, Item>,
    handler: RequestHandler<Req, Item>,
  ): void {
    this.registered.set(descriptor.protocolId, {
      descriptor: descriptor as AnyDescriptor,
      handler: handler as RequestHandler<unknown, unknown>,
      quota: new InboundQuota(descriptor.quota, { clock: this.modules.clock }),
      byteQuota:
        descriptor.byteQuota === undefined
          ? null
          : new InboundQuota(descriptor.byteQuota, { clock: this.modules.clock }),
    });
  }

  /** Registers the stream handlers with libp2p. */
  async start(): Promise<void> {
    for (const entry of this.registered.values()) {
      await this.modules.libp2p.handle(
        entry.descriptor.protocolId,
        (stream, connection) => {
          void this.serve(entry, stream, connection.remotePeer.toString());
        },
        { maxInboundStreams: 4, maxOutboundStreams: 8 },
      );
    }
  }

  async stop(): Promise<void> {
    for (const protocolId of this.registered.keys()) {
      await this.modules.libp2p.unhandle(protocolId).catch(() => undefined);
    }
  }

  // ---- inbound ----

  private async serve(entry: Registered, stream: Stream, peerId: string): Promise<void> {
    const { descriptor, handler, quota, byteQuota } = entry;
    const { logger, metrics } = this.modules;
    const count = (outcome: string) =>
      metrics?.reqrespRequests.inc({ protocol: descriptor.name, direction: 'inbound', outcome });
    const lp = lpStream(stream, {
      maxDataLength: descriptor.maxRequestBytes,
      maxBufferSize: descriptor.maxRequestBytes + 64,
    });
    const writeSignal = AbortSignal.timeout(INBOUND_WRITE_TIMEOUT_MS);
    const fail = async (reason: string) => {
      const text = new TextEncoder().encode(reason).subarray(0, MAX_ERROR_BYTES);
      const frame = new Uint8Array(1 + text.length);
      frame[0] = ResponseCode.error;
      frame.set(text, 1);
      await lp.write(frame, { signal: writeSignal });
      await stream.close({ signal: writeSignal });
    };
    try {
      if (!quota.take(peerId) || (byteQuota !== null && !byteQuota.hasCredit(peerId))) {
        count('rate_limited');
        this.modules.penalize(peerId, Penalty.rateLimited, `${descriptor.name} over quota`);
        await fail('rate limited');
        return;
      }
      // Counted against the quota above, so probing before the handshake is not free.
      const { handshaken } = this.modules;
      if (descriptor !== statusProtocol && handshaken !== undefined && !handshaken(peerId)) {
        count('no_handshake');
        await fail('status handshake first');
        return;
      }
      let bytes: Uint8Array;
      try {
        bytes = (
          await lp.read({ signal: AbortSignal.timeout(INBOUND_READ_TIMEOUT_MS) })
        ).subarray();
      } catch (error) {
        count('bad_request');
        if (isLengthError(error)) {
          this.modules.penalize(peerId, Penalty.oversized, `${descriptor.name} request too large`);
        }
        stream.abort(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      let request: unknown;
      try {
        request = descriptor.decodeRequest(bytes);
      } catch (error) {
        count('bad_request');
        this.modules.penalize(peerId, Penalty.malformed, `${descriptor.name} malformed request`);
        await fail(error instanceof DecodeError ? error.message : 'invalid request');
        return;
      }
      let items = 0;
      try {
        for await (const item of handler(request, peerId, this.modules.context)) {
          const encoded = descriptor.encodeItem(item);
          const frame = new Uint8Array(1 + encoded.length);
          frame[0] = ResponseCode.item;
          frame.set(encoded, 1);
          byteQuota?.charge(peerId, frame.length);
          await lp.write(frame, { signal: writeSignal });
          if (++items >= descriptor.maxResponseItems) break;
        }
      } catch (error) {
        if (!(error instanceof RequestRefused) || items > 0) throw error;
        count('refused');
        logger.debug(
          { peer: peerId, protocol: descriptor.name, reason: error.message },
          'request refused',
        );
        await fail(error.message);
        return;
      }
      await lp.write(Uint8Array.of(ResponseCode.end), { signal: writeSignal });
      await stream.close({ signal: writeSignal });
      count('ok');
    } catch (error) {
      count('error');
      logger.debug(
        { peer: peerId, protocol: descriptor.name, err: String(error) },
        'inbound request failed',
      );
      stream.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // ---- outbound ----

  async request<Req, Item>(
    peerId: PeerIdStr,
    protocol: ProtocolDescriptor<Req, Item>,
    request: Req,
    options: RequestOptions = {},
  ): Promise<Item[]> {
    const context = { peerId, protocol: protocol.name };
    const { metrics } = this.modules;
    const count = (outcome: string) =>
      metrics?.reqrespRequests.inc({ protocol: protocol.name, direction: 'outbound', outcome });
    let peer: ReturnType<typeof peerIdFromString>;
    try {
      peer = peerIdFromString(peerId);
    } catch (error) {
      throw new ReqRespError('REQRESP_DIAL_FAILED', `invalid peer id ${peerId}`, context, {
        cause: error,
      });
    }
    const timeout = AbortSignal.timeout(options.timeoutMs ?? protocol.timeoutMs);
    const signal =
      options.signal === undefined ? timeout : AbortSignal.any([timeout, options.signal]);
    let stream: Stream;
    try {
      stream = await this.modules.libp2p.dialProtocol(peer, protocol.protocolId, { signal });
    } catch (error) {
      count('dial_failed');
      if (timeout.aborted) {
        throw new ReqRespError('REQRESP_TIMEOUT', `${protocol.name}: dial timed out`, context);
      }
      throw new ReqRespError(
        signal.aborted ? 'REQRESP_ABORTED' : 'REQRESP_DIAL_FAILED',
        `${protocol.name}: cannot open a stream to ${peerId}: ${String(error)}`,
        context,
        { cause: error },
      );
    }
    const lp = lpStream(stream, {
      maxDataLength: protocol.maxItemBytes + 1,
      // Room for the largest whole response: the reader may decode slower than the peer sends.
      maxBufferSize: Math.min(
        (protocol.maxItemBytes + 16) * protocol.maxResponseItems + 65_536,
        96 * 1024 * 1024,
      ),
    });
    const items: Item[] = [];
    try {
      await lp.write(protocol.encodeRequest(request), { signal });
      await stream.close({ signal });
      for (;;) {
        const frame = (await lp.read({ signal })).subarray();
        const code = frame[0];
        if (code === ResponseCode.end && frame.length === 1) break;
        if (code === ResponseCode.error) {
          const reason = new TextDecoder().decode(frame.subarray(1, 1 + MAX_ERROR_BYTES));
          count('server_error');
          throw new ReqRespError(
            'REQRESP_SERVER_ERROR',
            `${protocol.name}: ${peerId} answered: ${reason}`,
            context,
          );
        }
        if (code !== ResponseCode.item || items.length >= protocol.maxResponseItems) {
          throw new DecodeError('invalid-value', `${protocol.name} response`, {
            field: 'code',
            value: code,
          });
        }
        items.push(protocol.decodeItem(frame.subarray(1)));
      }
      count('ok');
      return items;
    } catch (error) {
      stream.abort(error instanceof Error ? error : new Error(String(error)));
      if (error instanceof ReqRespError) throw error;
      if (error instanceof DecodeError || isLengthError(error)) {
        count('invalid_response');
        this.modules.penalize(peerId, Penalty.malformed, `${protocol.name} invalid response`);
        throw new ReqRespError(
          'REQRESP_INVALID_RESPONSE',
          `${protocol.name}: invalid response from ${peerId}: ${String(error)}`,
          context,
          { cause: error },
        );
      }
      if (timeout.aborted) {
        count('timeout');
        this.modules.penalize(peerId, Penalty.timeout, `${protocol.name} timeout`);
        throw new ReqRespError('REQRESP_TIMEOUT', `${protocol.name}: ${peerId} timed out`, context);
      }
      if (signal.aborted) {
        count('aborted');
        throw new ReqRespError('REQRESP_ABORTED', `${protocol.name}: aborted`, context);
      }
      count('stream_error');
      throw new ReqRespError(
        'REQRESP_STREAM_ERROR',
        `${protocol.name}: stream to ${peerId} failed: ${String(error)}`,
        context,
        { cause: error },
      );
    }
  }

  async getStatus(peerId: PeerIdStr, options?: RequestOptions): Promise<StatusMessage> {
    const items = await this.request(
      peerId,
      statusProtocol,
      this.modules.context.localStatus(),
      options,
    );
    const status = items[0];
    if (status === undefined) {
      throw new ReqRespError('REQRESP_INVALID_RESPONSE', 'status: empty response', {
        peerId,
        protocol: 'status',
      });
    }
    return status;
  }

  async getMempoolTxids(peerId: PeerIdStr, options?: RequestOptions): Promise<Uint8Array[]> {
    const chunks = await this.request(peerId, mempoolTxidsProtocol, null, options);
    return chunks.flat();
  }

  async getBlocksByRange(
    peerId: PeerIdStr,
    startHeight: number,
    count: number,
    options?: RequestOptions,
  ): Promise<BlockWithCommit[]> {
    const context = { peerId, protocol: blocksByRangeProtocol.name };
    if (
      !Number.isSafeInteger(startHeight) ||
      startHeight < 0 ||
      startHeight > 0xffffffff ||
      !Number.isSafeInteger(count) ||
      count < 1 ||
      count > MAX_BLOCKS_PER_REQUEST
    ) {
      throw new ReqRespError(
        'REQRESP_INVALID_REQUEST',
        `blocks_by_range: start ${startHeight} count ${count} out of bounds (count 1..${MAX_BLOCKS_PER_REQUEST})`,
        context,
      );
    }
    const items = await this.request(
      peerId,
      blocksByRangeProtocol,
      { startHeight, count },
      options,
    );
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.block.height !== startHeight + i || i >= count) {
        this.modules.penalize(peerId, Penalty.unrequested, 'blocks_by_range unrequested block');
        throw new ReqRespError(
          'REQRESP_INVALID_RESPONSE',
          `blocks_by_range: item ${i} has height ${items[i]!.block.height}, asked ${startHeight + i}`,
          context,
        );
      }
    }
    return items;
  }

  async getBlockByHash(
    peerId: PeerIdStr,
    hash: Uint8Array,
    options?: RequestOptions,
  ): Promise<BlockWithCommit | null> {
    const context = { peerId, protocol: blockByHashProtocol.name };
    if (hash.length !== 32) {
      throw new ReqRespError(
        'REQRESP_INVALID_REQUEST',
        'block_by_hash: hash must be 32 bytes',
        context,
      );
    }
    const items = await this.request(peerId, blockByHashProtocol, hash, options);
    const item = items[0];
    if (item === undefined) return null;
    if (!bytesEqual(item.block.hash, hash)) {
      this.modules.penalize(peerId, Penalty.unrequested, 'block_by_hash unrequested block');
      throw new ReqRespError(
        'REQRESP_INVALID_RESPONSE',
        `block_by_hash: got ${toHex(item.block.hash)}, asked ${toHex(hash)}`,
        context,
      );
    }
    return item;
  }

  /** The votes a peer holds for a round of its current consensus height (catch-up). */
  async getConsensusVotes(
    peerId: PeerIdStr,
    height: number,
    round: number,
    options?: RequestOptions,
  ): Promise<VoteMessage[]> {
    const context = { peerId, protocol: consensusVotesProtocol.name };
    if (!isU32(height) || !isU32(round)) {
      throw new ReqRespError(
        'REQRESP_INVALID_REQUEST',
        'consensus_votes: u32 height and round',
        context,
      );
    }
    const votes = await this.request(peerId, consensusVotesProtocol, { height, round }, options);
    if (votes.some((v) => v.height !== height || v.round !== round)) {
      this.modules.penalize(peerId, Penalty.unrequested, 'consensus_votes unrequested vote');
      throw new ReqRespError(
        'REQRESP_INVALID_RESPONSE',
        'consensus_votes: vote of another round',
        context,
      );
    }
    return votes;
  }

  /** The proposal carrying `blockHash`, if the peer holds it at its current height (catch-up). */
  async getProposalByHash(
    peerId: PeerIdStr,
    blockHash: Uint8Array,
    options?: RequestOptions,
  ): Promise<ProposalMessage | null> {
    const context = { peerId, protocol: proposalByHashProtocol.name };
    if (blockHash.length !== 32) {
      throw new ReqRespError(
        'REQRESP_INVALID_REQUEST',
        'proposal_by_hash: hash must be 32 bytes',
        context,
      );
    }
    const items = await this.request(peerId, proposalByHashProtocol, blockHash, options);
    const proposal = items[0];
    if (proposal === undefined) return null;
    if (!bytesEqual(proposal.block.hash, blockHash)) {
      this.modules.penalize(peerId, Penalty.unrequested, 'proposal_by_hash unrequested block');
      throw new ReqRespError(
        'REQRESP_INVALID_RESPONSE',
        `proposal_by_hash: got ${toHex(proposal.block.hash)}, asked ${toHex(blockHash)}`,
        context,
      );
    }
    return proposal;
  }

  async getTransactions(
    peerId: PeerIdStr,
    txids: readonly Uint8Array[],
    options?: RequestOptions,
  ): Promise<Transaction[]> {
    const context = { peerId, protocol: transactionsProtocol.name };
    if (txids.length === 0) return [];
    if (txids.length > MAX_TXIDS_PER_REQUEST || txids.some((t) => t.length !== 32)) {
      throw new ReqRespError(
        'REQRESP_INVALID_REQUEST',
        `transactions: 1..${MAX_TXIDS_PER_REQUEST} txids of 32 bytes`,
        context,
      );
    }
    const wanted = new Set(txids.map(bytesKey));
    const items = await this.request(peerId, transactionsProtocol, [...txids], options);
    for (const tx of items) {
      if (!wanted.delete(bytesKey(tx.txid))) {
        this.modules.penalize(peerId, Penalty.unrequested, 'transactions unrequested tx');
        throw new ReqRespError(
          'REQRESP_INVALID_RESPONSE',
          `transactions: got unrequested or repeated ${toHex(tx.txid)}`,
          context,
        );
      }
    }
    return items;
  }
}

function isLengthError(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name;
  return (
    name === 'InvalidDataLengthError' ||
    name === 'InvalidDataLengthLengthError' ||
    name === 'InvalidMessageLengthError' ||
    name === 'StreamBufferError'
  );
}

function isU32(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0 && n <= 0xffffffff;
}
