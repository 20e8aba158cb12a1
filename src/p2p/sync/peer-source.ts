/**
 * What block sync needs from the network, and nothing more. The req/resp
 * layer (`src/p2p/reqresp`) is adapted onto these interfaces
 * (`reqresp-adapter.ts`); the sync tests implement them in memory
 * (`test/support/sync-fixture.ts`), so the whole algorithm runs without sockets.
 */
import type { Transaction } from '../../primitives/index.ts';
import type { BlockWithCommit } from '../messages.ts';

/** A peer's answer to a status request: the tip it claims to have. */
export interface PeerChainStatus {
  readonly height: number;
  readonly hash: Uint8Array;
}

export type { BlockWithCommit };

/**
 * One connected peer as sync sees it. Every request takes an AbortSignal:
 * sync aborts a request it has given up on (timeout, peer dropped), and the
 * transport should close the stream then.
 */
export interface SyncPeer {
  /** Stable id (the libp2p peer id string). */
  readonly id: string;
  status(signal: AbortSignal): Promise<PeerChainStatus>;
  /**
   * Blocks `start .. start + count - 1` with their commit certificates, in
   * order. A peer may answer with a non-empty prefix (a response size limit);
   * anything else that is not exactly those heights is a protocol violation.
   */
  blocksByRange(start: number, count: number, signal: AbortSignal): Promise<BlockWithCommit[]>;
  /** Report misbehaviour to peer scoring (0-100; 100 bans). */
  penalize(penalty: number, reason: string): void;
  /** Txids in the peer's mempool, if the protocol offers it. */
  mempoolTxids?(signal: AbortSignal): Promise<Uint8Array[]>;
  /** The transactions of `txids` the peer has (mempool or chain), if the protocol offers it. */
  transactionsById?(txids: readonly Uint8Array[], signal: AbortSignal): Promise<Transaction[]>;
}

/** The set of peers sync may use; it tells sync when peers come and go. */
export interface SyncPeerSet {
  peers(): readonly SyncPeer[];
  /** Returns a function that removes the listener. */
  onPeerAdded(listener: (peer: SyncPeer) => void): () => void;
  onPeerRemoved(listener: (peerId: string) => void): () => void;
  /** Optional: statuses the transport learned by itself (handshake, periodic refresh). */
  onPeerStatus?(listener: (peerId: string, status: PeerChainStatus) => void): () => void;
  /** Optional: a hint that `peerId` has at least `height` (a gossiped block ahead of our tip). */
  onAheadHint?(listener: (peerId: string, height: number) => void): () => void;
}

/** A set of peers held in memory: the adapter and the tests add and remove peers by hand. */
export class StaticPeerSet implements SyncPeerSet {
  private readonly byId = new Map<string, SyncPeer>();
  private readonly added = new Set<(peer: SyncPeer) => void>();
  private readonly removed = new Set<(peerId: string) => void>();
  private readonly hints = new Set<(peerId: string, height: number) => void>();

  constructor(initial: readonly SyncPeer[] = []) {
    for (const peer of initial) this.byId.set(peer.id, peer);
  }

  peers(): readonly SyncPeer[] {
    return [...this.byId.values()];
  }

  get(id: string): SyncPeer | undefined {
    return this.byId.get(id);
  }

  add(peer: SyncPeer): void {
    if (this.byId.has(peer.id)) this.remove(peer.id);
    this.byId.set(peer.id, peer);
    for (const listener of this.added) listener(peer);
  }

  remove(peerId: string): void {
    if (!this.byId.delete(peerId)) return;
    for (const listener of this.removed) listener(peerId);
  }

  onPeerAdded(listener: (peer: SyncPeer) => void): () => void {
    this.added.add(listener);
    return () => this.added.delete(listener);
  }

  onPeerRemoved(listener: (peerId: string) => void): () => void {
    this.removed.add(listener);
    return () => this.removed.delete(listener);
  }

  onAheadHint(listener: (peerId: string, height: number) => void): () => void {
    this.hints.add(listener);
    return () => this.hints.delete(listener);
  }

  /** Tells listeners that `peerId` relayed a block at `height`. */
  hint(peerId: string, height: number): void {
    for (const listener of this.hints) listener(peerId, height);
  }
}
