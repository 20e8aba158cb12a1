/**
 * The request/response layer's types, apart from index.ts so that the engine
 * and the protocol files can import them without a cycle through the face.
 * The sync module codes against them: keep them backwards compatible.
 *
 * A peer is named by its libp2p peer id string (base58, `12D3Koo...`).
 */
import type { EventEmitter } from 'node:events';
import type { Transaction } from '../../primitives/index.ts';
import type { BlockWithCommit, StatusMessage } from '../messages.ts';

/** A peer id string, as `PeerId.toString()` gives it. */
export type PeerIdStr = string;

/**
 * One request/response method (Lodestar's shape). A request is one
 * length-prefixed frame; the response is up to `maxResponseItems` frames, each
 * a result byte (0 = item follows, 1 = error: UTF-8 reason follows) and the
 * encoded item, then the responder closes its write side.
 */
export interface ProtocolDescriptor<Req, Item> {
  /** Short name for logs and metrics, e.g. `status`. */
  readonly name: string;
  /** libp2p protocol id, `/utxod/<name>/<version>`. */
  readonly protocolId: string;
  /** Upper bound of the encoded request (checked before decoding). */
  readonly maxRequestBytes: number;
  /** Upper bound of one encoded response item (checked before decoding). */
  readonly maxItemBytes: number;
  /** Most items one response may carry. */
  readonly maxResponseItems: number;
  /** Whole-request deadline on the requesting side (dial + write + all items). */
  readonly timeoutMs: number;
  /** Inbound requests one peer may make: `requests` per `perMs` (token bucket). */
  readonly quota: { readonly requests: number; readonly perMs: number };
  /**
   * Response bytes one peer may be served: `requests` bytes per `perMs`. What
   * a request costs the server is its response, not the request itself: a
   * quota in bytes lets a fast peer sync small blocks at full speed and still
   * bounds what big ones cost.
   */
  readonly byteQuota?: { readonly requests: number; readonly perMs: number };
  encodeRequest(request: Req): Uint8Array;
  /** Strict: throws DecodeError on anything but the canonical encoding. */
  decodeRequest(bytes: Uint8Array): Req;
  encodeItem(item: Item): Uint8Array;
  /** Strict: throws DecodeError on anything but the canonical encoding. */
  decodeItem(bytes: Uint8Array): Item;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
  /** Overrides the descriptor's timeout. */
  readonly timeoutMs?: number;
}

/** The client side the sync module uses. Every method rejects with ReqRespError. */
export interface ReqRespClient {
  /** Generic: send `request` to `peerId` and collect the response items. */
  request<Req, Item>(
    peerId: PeerIdStr,
    protocol: ProtocolDescriptor<Req, Item>,
    request: Req,
    options?: RequestOptions,
  ): Promise<Item[]>;
  /** The peer's current status (chain id, genesis, protocol version, tip). */
  getStatus(peerId: PeerIdStr, options?: RequestOptions): Promise<StatusMessage>;
  /**
   * Blocks `startHeight .. startHeight + count - 1` (count <= MAX_BLOCKS_PER_REQUEST),
   * each with its own commit certificate, in height order. The peer may return
   * fewer (it stops at its tip); it never returns others: the response is
   * checked to be consecutive heights from `startHeight`.
   */
  getBlocksByRange(
    peerId: PeerIdStr,
    startHeight: number,
    count: number,
    options?: RequestOptions,
  ): Promise<BlockWithCommit[]>;
  /** One block with its commit certificate, or null when the peer does not have it. */
  getBlockByHash(
    peerId: PeerIdStr,
    hash: Uint8Array,
    options?: RequestOptions,
  ): Promise<BlockWithCommit | null>;
  /** Txids in the peer's mempool (at most MAX_MEMPOOL_TXIDS). */
  getMempoolTxids(peerId: PeerIdStr, options?: RequestOptions): Promise<Uint8Array[]>;
  /**
   * Mempool transactions by txid (at most MAX_TXIDS_PER_REQUEST); the ones the
   * peer does not have are left out. Only requested txids are returned.
   */
  getTransactions(
    peerId: PeerIdStr,
    txids: readonly Uint8Array[],
    options?: RequestOptions,
  ): Promise<Transaction[]>;
}

/** A connected peer that passed the status handshake. */
export interface PeerInfo {
  readonly peerId: PeerIdStr;
  /** Its last status (refreshed on connect and periodically). */
  readonly status: StatusMessage;
  readonly direction: 'inbound' | 'outbound';
  readonly remoteAddr: string;
  /** Our score of it: 0 is neutral, the ban threshold is negative. */
  readonly score: number;
}

export interface PeerEvents {
  /** A peer passed the handshake, or reported a new status. */
  'peer:status': [PeerInfo];
  /** A peer that had passed the handshake disconnected. */
  'peer:disconnected': [{ readonly peerId: PeerIdStr }];
  /** A gossiped block that is ahead of our tip + 1 (a hint that we are behind). */
  'block:ahead': [{ readonly peerId: PeerIdStr; readonly height: number }];
}

/** What the sync module needs besides requests: who is there, and a way to blame them. */
export interface PeerSource {
  readonly events: EventEmitter<PeerEvents>;
  /** Peers that passed the handshake, best tip first. */
  connectedPeers(): PeerInfo[];
  /**
   * Lowers a peer's score (0-100, as VerificationError.penalty; 100 bans at
   * once). Use it for invalid blocks, unrequested or inconsistent data.
   */
  reportPeer(peerId: PeerIdStr, penalty: number, reason: string): void;
}
