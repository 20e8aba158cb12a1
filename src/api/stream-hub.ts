import type { Logger } from 'pino';
import type { Chain } from '../chain/index.ts';
import type { Mempool } from '../mempool/index.ts';
import type { Block, Lock, Transaction } from '../primitives/index.ts';
import { toHex } from '../util/index.ts';

/** The part of a WebSocket the hub uses (ws's WebSocket satisfies it). */
export interface StreamSocket {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface BlockMessage {
  readonly type: 'block';
  readonly height: number;
  readonly hash: string;
  readonly time: number;
  readonly txCount: number;
  readonly txids: readonly string[];
}

export interface AddressTxMessage {
  readonly type: 'tx';
  readonly address: string;
  readonly txid: string;
  readonly status: 'mempool' | 'committed';
  readonly height?: number;
}

/** What the hub needs of a block event (BlockImporter's 'block' event has it). */
export interface BlockEvent {
  readonly block: Block;
}

/** BlockImporter.events, structurally: the API does not depend on node/. */
export interface BlockEventSource {
  on(event: 'block', listener: (event: BlockEvent) => void): unknown;
  off(event: 'block', listener: (event: BlockEvent) => void): unknown;
}

interface Subscriber {
  readonly socket: StreamSocket;
  blocks: boolean;
  /** lock hash hex -> address as the client spelled it. */
  readonly addresses: Map<string, string>;
}

/** A slow reader is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
export const MAX_ADDRESSES_PER_SOCKET = 100;

/**
 * Fan-out of new blocks and address activity to WebSocket subscribers. Fed
 * by BlockImporter's 'block' event and by the submit route's admissions; it
 * never touches consensus: a failure here only costs a subscriber a message.
 */
export class StreamHub {
  private readonly subscribers = new Set<Subscriber>();
  /** lock hash hex -> how many subscriptions want it: blocks are only scanned when non-empty. */
  private readonly watched = new Map<string, number>();
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly logger: Logger;
  readonly maxSockets: number;

  constructor(modules: { chain: Chain; mempool: Mempool; logger: Logger }, maxSockets = 1000) {
    this.chain = modules.chain;
    this.mempool = modules.mempool;
    this.logger = modules.logger;
    this.maxSockets = maxSockets;
    // Every admission, whatever its source (API, gossip, sync, resolved orphan).
    this.mempool.events.on('accepted', ({ tx }) => this.onMempoolTx(tx));
  }

  get size(): number {
    return this.subscribers.size;
  }

  add(socket: StreamSocket): Subscriber | null {
    if (this.subscribers.size >= this.maxSockets) return null;
    const sub: Subscriber = { socket, blocks: false, addresses: new Map() };
    this.subscribers.add(sub);
    return sub;
  }

  remove(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    for (const key of sub.addresses.keys()) this.unwatch(key);
    sub.addresses.clear();
  }

  subscribeAddress(sub: Subscriber, lock: Lock, address: string): boolean {
    const key = toHex(lock.hash);
    if (sub.addresses.has(key)) return true;
    if (sub.addresses.size >= MAX_ADDRESSES_PER_SOCKET) return false;
    sub.addresses.set(key, address);
    this.watched.set(key, (this.watched.get(key) ?? 0) + 1);
    return true;
  }

  unsubscribeAddress(sub: Subscriber, lock: Lock): void {
    const key = toHex(lock.hash);
    if (sub.addresses.delete(key)) this.unwatch(key);
  }

  closeAll(): void {
    for (const sub of this.subscribers) sub.socket.close(1001, 'server shutting down');
    this.subscribers.clear();
    this.watched.clear();
  }

  /** BlockImporter 'block' listener. */
  onBlock(event: BlockEvent): void {
    const { block } = event;
    const message: BlockMessage = {
      type: 'block',
      height: block.height,
      hash: toHex(block.hash),
      time: block.header.time,
      txCount: block.txs.length,
      txids: block.txs.map((tx) => toHex(tx.txid)),
    };
    let text: string | undefined;
    for (const sub of this.subscribers) {
      if (!sub.blocks) continue;
      text ??= JSON.stringify(message);
      this.send(sub, text);
    }
    if (this.watched.size === 0) return;
    this.announceBlockTxs(event).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'stream: could not announce address activity'),
    );
  }

  /** A transaction entered the mempool (through this API). */
  onMempoolTx(tx: Transaction): void {
    if (this.watched.size === 0) return;
    this.announceMempoolTx(tx).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'stream: could not announce a mempool transaction'),
    );
  }

  private async announceMempoolTx(tx: Transaction): Promise<void> {
    const touched = new Set<string>();
    for (const output of tx.outputs) touched.add(toHex(output.lock.hash));
    const fromChain = [];
    for (const { prevout } of tx.inputs) {
      const parent = this.mempool.get(prevout.txid);
      const output = parent?.tx.outputs[prevout.index];
      if (output !== undefined) touched.add(toHex(output.lock.hash));
      else fromChain.push(prevout);
    }
    if (fromChain.length > 0) {
      for (const coin of await this.chain.getCoins(fromChain))
        if (coin !== undefined) touched.add(toHex(coin.lock.hash));
    }
    this.announce(touched, { txid: toHex(tx.txid), status: 'mempool' });
  }

  private async announceBlockTxs(event: BlockEvent): Promise<void> {
    const { block } = event;
    // The spent coins are gone from the UTXO set by now; their locks are
    // found in the transactions that created them (this block or the tx index).
    const inBlock = new Map<string, Transaction>();
    for (const tx of block.txs) inBlock.set(toHex(tx.txid), tx);
    const parents = new Map<string, Transaction | undefined>();
    for (const tx of block.txs) {
      const touched = new Set<string>();
      for (const output of tx.outputs) touched.add(toHex(output.lock.hash));
      if (!tx.isCoinbase) {
        for (const { prevout } of tx.inputs) {
          const key = toHex(prevout.txid);
          let parent = inBlock.get(key) ?? parents.get(key);
          if (parent === undefined && !parents.has(key)) {
            parent = (await this.chain.getTransaction(prevout.txid))?.tx;
            parents.set(key, parent);
          }
          const output = parent?.outputs[prevout.index];
          if (output !== undefined) touched.add(toHex(output.lock.hash));
        }
      }
      this.announce(touched, { txid: toHex(tx.txid), status: 'committed', height: block.height });
    }
  }

  private announce(
    touched: ReadonlySet<string>,
    what: { txid: string; status: 'mempool' | 'committed'; height?: number },
  ): void {
    for (const key of touched) {
      if (!this.watched.has(key)) continue;
      for (const sub of this.subscribers) {
        const address = sub.addresses.get(key);
        if (address === undefined) continue;
        const message: AddressTxMessage = { type: 'tx', address, ...what };
        this.send(sub, JSON.stringify(message));
      }
    }
  }

  send(sub: Subscriber, text: string): void {
    if (sub.socket.bufferedAmount > MAX_BUFFERED_BYTES) {
      sub.socket.close(1013, 'subscriber too slow');
      this.remove(sub);
      return;
    }
    sub.socket.send(text);
  }

  private unwatch(key: string): void {
    const n = (this.watched.get(key) ?? 0) - 1;
    if (n <= 0) this.watched.delete(key);
    else this.watched.set(key, n);
  }
}

export type { Subscriber };
