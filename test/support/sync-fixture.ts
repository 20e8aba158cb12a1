/**
 * Test support for sync (not used by the node): a real source chain with
 * transactions and past block times, in-memory peers serving it (honest,
 * slow, stalling, lying, disconnecting) on an in-memory network that has the
 * P2PHost's peer model (`PeerSource`) and req/resp client (`SyncClient`), and
 * a fresh node (chain, mempool, importer) to sync into.
 */

import { EventEmitter } from 'node:events';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { BlockImporter } from '../../src/chain/block-importer.ts';
import type { Chain } from '../../src/chain/chain.ts';
import type { Genesis } from '../../src/chain/genesis.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import { SyncError } from '../../src/p2p/sync/errors.ts';
import type {
  BlockWithCommit,
  PeerEvents,
  PeerInfo,
  PeerSource,
  StatusMessage,
  SyncClient,
} from '../../src/p2p/sync/index.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { Block } from '../../src/primitives/block.ts';
import type { CommitCertificate } from '../../src/primitives/commit.ts';
import { Header } from '../../src/primitives/header.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { bytesEqual } from '../../src/util/bytes.ts';
import { CHAIN_ID, openTestChain, type TestChain, testGenesis, testKey } from './chain-fixture.ts';

export interface SourceChain {
  readonly t: TestChain;
  readonly genesis: Genesis;
  readonly validator: KeyPair;
  /** Transactions in blocks, coinbases excluded. */
  readonly txCount: number;
  /** The current (unspent) coin of each spend chain, owned by `sourceOwner(i)`. */
  readonly coins: SpendableCoin[];
  /** Produces `n` more blocks (same pattern). */
  extend(n: number): Promise<void>;
}

/**
 * A chain of `blocks` blocks, `txsPerBlock` signed transfers in each (one
 * chain of spends per funded key), block times one second apart from the
 * genesis time (in the past, so the future-time rule never trips).
 */
export async function buildSourceChain(opts: {
  blocks: number;
  txsPerBlock: number;
}): Promise<SourceChain> {
  const validator = testKey(0);
  const owners = Array.from({ length: Math.max(1, opts.txsPerBlock) }, (_, i) => testKey(10 + i));
  const genesis = testGenesis({ validator, funded: owners, amount: 100_000n * COIN });
  const t = await openTestChain({ genesis, validator, cacheBytes: 32 << 20 });
  const genesisBlock = await t.chain.requireBlockAt(0);
  const allocation = genesisBlock.txs[0]!;
  const coins: SpendableCoin[] = allocation.outputs.map((o, index) => ({
    outpoint: { txid: allocation.txid, index },
    amount: o.amount,
    lock: o.lock,
  }));
  const payee = pubkeyLock(testKey(99).publicKey);
  let txCount = 0;
  const produce = async (n: number) => {
    for (let k = 0; k < n; k++) {
      const h = t.chain.tipHeight + 1;
      const txs: Transaction[] = [];
      for (let i = 0; i < opts.txsPerBlock; i++) {
        const coin = coins[i]!;
        const owner = owners[i]!;
        const tx = buildTransaction({
          chainId: CHAIN_ID,
          coins: [coin],
          outputs: [{ amount: COIN / 100n, lock: payee }],
          changeLock: pubkeyLock(owner.publicKey),
          feeRate: 0n,
          keys: [owner],
        });
        const changeIndex = tx.outputs.findIndex((o) =>
          bytesEqual(o.lock.hash, pubkeyLock(owner.publicKey).hash),
        );
        coins[i] = {
          outpoint: { txid: tx.txid, index: changeIndex },
          amount: tx.outputs[changeIndex]!.amount,
          lock: tx.outputs[changeIndex]!.lock,
        };
        txs.push(tx);
      }
      const block = await assembleBlock(t.chain, {
        txs,
        fees: 0n,
        proposer: validator.publicKey,
        rewardLock: pubkeyLock(validator.publicKey),
        time: genesis.time + h * 1000,
      });
      await t.chain.connectBlock(block, t.commitFor(block), { now: null });
      txCount += txs.length;
    }
  };
  await produce(opts.blocks);
  return {
    t,
    genesis,
    validator,
    get txCount() {
      return txCount;
    },
    coins,
    extend: produce,
  };
}

/** A fresh node on the same genesis: chain, mempool and the real importer. */
export async function openSyncTarget(source: SourceChain): Promise<{
  t: TestChain;
  mempool: Mempool;
  importer: BlockImporter;
}> {
  const t = await openTestChain({
    genesis: source.genesis,
    validator: source.validator,
    cacheBytes: 32 << 20,
  });
  const mempool = new Mempool(
    { maxBytes: 16 << 20, minRelayFeeRate: 0n },
    {
      params: t.chain.params,
      chainIdHash: t.chain.chainIdHash,
      chain: t.chain,
      signatures: new SignatureChecker({
        verifier: t.verifier,
        cache: null,
      }),
    },
  );
  const importer = new BlockImporter({
    chain: t.chain,
    mempool,
    metrics: null,
    logger: silentLogger(),
  });
  return { t, mempool, importer };
}

export interface MemoryPeerBehaviour {
  /** Claims and serves up to this height (default: the source tip). */
  height?: number;
  /** Milliseconds before each range answer. */
  delayMs?: number;
  /** Ranges starting at or above this height are never answered (until aborted). */
  stallFrom?: number;
  /** Blocks at or above this height are served with a transaction's output amount changed. */
  corruptFrom?: number;
  /** Blocks at or above this height are replaced by ones with a wrong UTXO root, validly certified. */
  badSignedFrom?: number;
  /** Serves at most this many blocks per answer. */
  maxPerResponse?: number;
  /** After this many range requests, the peer "disconnects" (calls onDisconnect, rejects). */
  disconnectAfter?: number;
  /** Answers ranges with blocks of the wrong heights. */
  wrongHeights?: boolean;
  /** Claims this tip height in its status (with a made-up hash) whatever it can serve: a liar. */
  claimHeight?: number;
  /**
   * Began from a snapshot at this height: says so in its status and refuses
   * ranges starting below it as the real handler does ("pruned", an error
   * frame, which sync sees as a SyncError without penalty).
   */
  earliest?: number;
}

/** A peer serving `source` from memory with the given behaviour. */
/** A peer's claimed tip. */
export interface MemoryPeerStatus {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly earliest: number;
}

/** A peer serving the source chain from memory, with a chosen (mis)behaviour. */
export class MemoryPeer {
  readonly id: string;
  readonly penalties: Array<{ penalty: number; reason: string }> = [];
  readonly requests: Array<{ start: number; count: number }> = [];
  transactions: Transaction[] = [];
  onDisconnect: (() => void) | null = null;
  private readonly source: SourceChain;
  private readonly behaviour: MemoryPeerBehaviour;
  private disconnected = false;

  constructor(id: string, source: SourceChain, behaviour: MemoryPeerBehaviour = {}) {
    this.id = id;
    this.source = source;
    this.behaviour = behaviour;
  }

  get penaltyTotal(): number {
    return this.penalties.reduce((sum, p) => sum + p.penalty, 0);
  }

  private get height(): number {
    return Math.min(
      this.behaviour.height ?? Number.POSITIVE_INFINITY,
      this.source.t.chain.tipHeight,
    );
  }

  async status(): Promise<MemoryPeerStatus> {
    if (this.disconnected) throw new Error('disconnected');
    const claim = this.behaviour.claimHeight;
    const earliest = this.behaviour.earliest ?? 0;
    if (claim !== undefined)
      return { height: claim, hash: new Uint8Array(32).fill(0xee), earliest };
    const hash = await this.source.t.chain.getHashAt(this.height);
    return { height: this.height, hash: hash!, earliest };
  }

  async blocksByRange(
    start: number,
    count: number,
    signal: AbortSignal,
  ): Promise<BlockWithCommit[]> {
    if (this.disconnected) throw new Error('disconnected');
    this.requests.push({ start, count });
    const b = this.behaviour;
    if (b.earliest !== undefined && start < b.earliest)
      throw new SyncError(
        'SYNC_REQUEST_FAILED',
        `pruned: this node's chain starts at height ${b.earliest}`,
      );
    if (b.disconnectAfter !== undefined && this.requests.length > b.disconnectAfter) {
      // Mid-range: the request is outstanding when the connection drops; it never answers.
      setTimeout(() => {
        this.disconnected = true;
        this.onDisconnect?.();
      }, 20);
      await new Promise<void>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
      );
    }
    if (b.stallFrom !== undefined && start >= b.stallFrom) {
      await new Promise<void>((_, reject) =>
        signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }),
      );
    }
    if (b.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, b.delayMs));
    const chain = this.source.t.chain;
    const last = Math.min(start + count - 1, this.height, start + (b.maxPerResponse ?? count) - 1);
    const items: BlockWithCommit[] = [];
    for (let h = start; h <= last; h++) {
      // Through bytes, as over the wire: the syncer never shares objects with the source.
      const block = Block.decode((await chain.requireBlockAt(h)).encode());
      const commit: CommitCertificate = await chain.requireCommitAt(h);
      items.push(this.mutate({ block, commit }));
    }
    if (b.wrongHeights === true && items.length > 1) items.reverse();
    return items;
  }

  private mutate(item: BlockWithCommit): BlockWithCommit {
    const { block } = item;
    const b = this.behaviour;
    if (b.corruptFrom !== undefined && block.height >= b.corruptFrom && block.txs.length > 1) {
      const tx = block.txs[1]!;
      const bytes = tx.encode().slice();
      // The first output's amount (after version, input count and one input, output count).
      const at = 4 + 1 + 36 + 1;
      bytes[at] = bytes[at]! ^ 1;
      const changed = Block.decode(
        new Block(block.header, block.lastCommit, [
          block.txs[0]!,
          Transaction.decode(bytes),
          ...block.txs.slice(2),
        ]).encode(),
      );
      return { block: changed, commit: item.commit };
    }
    if (b.badSignedFrom !== undefined && block.height >= b.badSignedFrom) {
      const header = new Header({ ...block.header, utxoRoot: new Uint8Array(32).fill(7) });
      const bad = new Block(header, block.lastCommit, block.txs);
      return { block: bad, commit: this.source.t.commitFor(bad) };
    }
    return item;
  }

  penalize(penalty: number, reason: string): void {
    this.penalties.push({ penalty, reason });
  }

  async mempoolTxids(): Promise<Uint8Array[]> {
    return this.transactions.map((tx) => tx.txid);
  }

  async transactionsById(txids: readonly Uint8Array[]): Promise<Transaction[]> {
    return this.transactions.filter((tx) => txids.some((id) => bytesEqual(id, tx.txid)));
  }
}

/** The owner key of the source chain's `i`-th spend chain (for building extra transactions). */
export function sourceOwner(i: number): KeyPair {
  return testKey(10 + i);
}

export type { Chain };

/**
 * The network the sync tests run on: the same peer model as the P2PHost
 * (handshake statuses as 'peer:status' events, disconnects, block-ahead
 * hints, penalties through `reportPeer`) and the same request interface,
 * each request answered by the MemoryPeer it names.
 */
export class MemoryNetwork implements PeerSource, SyncClient {
  readonly events = new EventEmitter<PeerEvents>();
  private readonly source: SourceChain;
  private readonly byId = new Map<string, { peer: MemoryPeer; info: PeerInfo | null }>();

  constructor(source: SourceChain) {
    this.source = source;
  }

  get(id: string): MemoryPeer | undefined {
    return this.byId.get(id)?.peer;
  }

  /** Connects `peer`; resolves once its handshake status is out (a 'peer:status' event). */
  async add(peer: MemoryPeer): Promise<void> {
    if (this.byId.has(peer.id)) this.remove(peer.id);
    const entry: { peer: MemoryPeer; info: PeerInfo | null } = { peer, info: null };
    this.byId.set(peer.id, entry);
    const status = await this.statusOf(peer);
    if (this.byId.get(peer.id) !== entry) return;
    entry.info = {
      peerId: peer.id,
      status,
      direction: 'outbound',
      // Each memory peer is its own host (agreement counts hosts).
      remoteAddr: `/memory/${peer.id}`,
      score: 0,
    };
    this.events.emit('peer:status', entry.info);
  }

  remove(peerId: string): void {
    const entry = this.byId.get(peerId);
    if (entry === undefined) return;
    this.byId.delete(peerId);
    if (entry.info !== null) this.events.emit('peer:disconnected', { peerId });
  }

  /** Tells sync that `peerId` relayed a block at `height`. */
  hint(peerId: string, height: number): void {
    this.events.emit('block:ahead', { peerId, height });
  }

  connectedPeers(): PeerInfo[] {
    const out: PeerInfo[] = [];
    for (const { info } of this.byId.values()) if (info !== null) out.push(info);
    return out;
  }

  reportPeer(peerId: string, penalty: number, reason: string): void {
    this.byId.get(peerId)?.peer.penalize(penalty, reason);
  }

  async getStatus(peerId: string): Promise<StatusMessage> {
    return this.statusOf(this.peer(peerId));
  }

  getBlocksByRange(
    peerId: string,
    start: number,
    count: number,
    options: { signal?: AbortSignal } = {},
  ): Promise<BlockWithCommit[]> {
    return this.peer(peerId).blocksByRange(
      start,
      count,
      options.signal ?? new AbortController().signal,
    );
  }

  async getMempoolTxids(peerId: string): Promise<Uint8Array[]> {
    return this.peer(peerId).mempoolTxids();
  }

  async getTransactions(peerId: string, txids: readonly Uint8Array[]): Promise<Transaction[]> {
    return this.peer(peerId).transactionsById(txids);
  }

  private peer(peerId: string): MemoryPeer {
    const entry = this.byId.get(peerId);
    if (entry === undefined) throw new Error(`${peerId} is not connected`);
    return entry.peer;
  }

  private async statusOf(peer: MemoryPeer): Promise<StatusMessage> {
    const { height, hash, earliest } = await peer.status();
    return {
      protocolVersion: P2P_PROTOCOL_VERSION,
      chainId: this.source.genesis.chainId,
      genesisHash: this.source.t.chain.genesisHash,
      tipHeight: height,
      tipHash: hash,
      earliestHeight: earliest,
    };
  }
}
