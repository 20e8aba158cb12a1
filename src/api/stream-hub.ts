import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import type { Chain } from '../chain/index.ts';
import type { Mempool } from '../mempool/index.ts';
import type { Block, Lock, Transaction } from '../primitives/index.ts';
import { toHex } from '../util/index.ts';
import { type BlockContractEvent, encodeValue } from '../vm/index.ts';

/** The part of a WebSocket the hub uses (ws's WebSocket satisfies it). */
export interface StreamSocket {
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection at once (a close frame would only queue behind unread data). */
  terminate?(): void;
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

export interface ContractEventMessage {
  readonly type: 'contractEvent';
  readonly contractId: string;
  readonly txid: string;
  readonly height: number;
  readonly name: string;
  /** Canonical contract-value text (docs/contracts.md). */
  readonly data: string;
}

/** What the hub needs of a block event (BlockImporter's 'block' event has it). */
export interface BlockEvent {
  readonly block: Block;
  readonly result?: { readonly contractEvents?: readonly BlockContractEvent[] };
}

/** BlockImporter.events, structurally: the API does not depend on node/. */
export interface BlockEventSource {
  on(event: 'block', listener: (event: BlockEvent) => void): unknown;
  off(event: 'block', listener: (event: BlockEvent) => void): unknown;
}

/** Who holds a socket: the token subject (null when anonymous) and the client address. */
export interface StreamClient {
  readonly subject: string | null;
  readonly address: string;
}

interface Subscriber {
  readonly socket: StreamSocket;
  readonly client: StreamClient;
  blocks: boolean;
  /** lock hash hex -> address as the client spelled it. */
  readonly addresses: Map<string, string>;
  /** Contract ids (hex) whose events the client wants. */
  readonly contracts: Set<string>;
}

export const MAX_ADDRESSES_PER_SOCKET = 100;
export const MAX_CONTRACTS_PER_SOCKET = 100;

export interface StreamHubOptions {
  /** Sockets in total. */
  readonly maxSockets?: number;
  /** Sockets one token subject may hold (anonymous clients are counted by address only). */
  readonly maxSocketsPerSubject?: number;
  /** Sockets one client address may hold, whatever tokens it uses. */
  readonly maxSocketsPerAddress?: number;
  /**
   * Bytes queued for one socket (ws's bufferedAmount) above which it is closed:
   * a client that stops reading is cut off rather than buffered without bound.
   */
  readonly maxBufferedBytes?: number;
}

export const STREAM_DEFAULTS = {
  maxSockets: 1000,
  maxSocketsPerSubject: 8,
  maxSocketsPerAddress: 32,
  maxBufferedBytes: 1024 * 1024,
} as const;

/** Why a socket was refused at connect or dropped later (the metric's label). */
export type StreamDropReason = 'slow-consumer' | 'total-limit' | 'subject-limit' | 'address-limit';

function dropCounter(registry: Registry | null): Counter<'reason'> | null {
  if (registry === null) return null;
  const name = 'utxod_api_stream_dropped_total';
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<'reason'>;
  return new Counter({
    name,
    help: 'WebSocket stream sockets refused at connect or closed for reading too slowly, by reason',
    labelNames: ['reason'],
    registers: [registry],
  });
}

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
  private readonly limits: Required<StreamHubOptions>;
  private readonly perSubject = new Map<string, number>();
  private readonly perAddress = new Map<string, number>();
  private readonly dropped: Counter<'reason'> | null;

  constructor(
    opts: StreamHubOptions,
    modules: { chain: Chain; mempool: Mempool; logger: Logger; metricsRegistry?: Registry | null },
  ) {
    this.chain = modules.chain;
    this.mempool = modules.mempool;
    this.logger = modules.logger;
    this.limits = { ...STREAM_DEFAULTS, ...opts };
    this.dropped = dropCounter(modules.metricsRegistry ?? null);
    // Every admission, whatever its source (API, gossip, sync, resolved orphan).
    this.mempool.events.on('accepted', ({ tx }) => this.onMempoolTx(tx));
  }

  get size(): number {
    return this.subscribers.size;
  }

  get maxSockets(): number {
    return this.limits.maxSockets;
  }

  /**
   * Registers a socket, or names the limit it would exceed: the total, its
   * subject's share or its address's share, so one token or one host cannot
   * hold every slot.
   */
  add(socket: StreamSocket, client: StreamClient): Subscriber | { refused: StreamDropReason } {
    let refused: StreamDropReason | null = null;
    if (this.subscribers.size >= this.limits.maxSockets) refused = 'total-limit';
    else if ((this.perAddress.get(client.address) ?? 0) >= this.limits.maxSocketsPerAddress)
      refused = 'address-limit';
    else if (
      client.subject !== null &&
      (this.perSubject.get(client.subject) ?? 0) >= this.limits.maxSocketsPerSubject
    )
      refused = 'subject-limit';
    if (refused !== null) {
      this.dropped?.inc({ reason: refused });
      return { refused };
    }
    const sub: Subscriber = {
      socket,
      client,
      blocks: false,
      addresses: new Map(),
      contracts: new Set(),
    };
    this.subscribers.add(sub);
    increment(this.perAddress, client.address, 1);
    if (client.subject !== null) increment(this.perSubject, client.subject, 1);
    return sub;
  }

  remove(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    increment(this.perAddress, sub.client.address, -1);
    if (sub.client.subject !== null) increment(this.perSubject, sub.client.subject, -1);
    for (const key of sub.addresses.keys()) this.unwatch(key);
    sub.addresses.clear();
    sub.contracts.clear();
  }

  /** Contract events of `id` (hex) for `sub`; false when it holds the most it may. */
  subscribeContract(sub: Subscriber, id: string): boolean {
    if (sub.contracts.has(id)) return true;
    if (sub.contracts.size >= MAX_CONTRACTS_PER_SOCKET) return false;
    sub.contracts.add(id);
    return true;
  }

  unsubscribeContract(sub: Subscriber, id: string): void {
    sub.contracts.delete(id);
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
    this.perAddress.clear();
    this.perSubject.clear();
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
    this.announceContractEvents(block.height, event.result?.contractEvents ?? []);
    if (this.watched.size === 0) return;
    this.announceBlockTxs(event).catch((error: unknown) =>
      this.logger.warn({ err: error }, 'stream: could not announce address activity'),
    );
  }

  private announceContractEvents(height: number, events: readonly BlockContractEvent[]): void {
    for (const e of events) {
      let text: string | undefined;
      for (const sub of this.subscribers) {
        if (!sub.contracts.has(e.contractId)) continue;
        const message: ContractEventMessage = {
          type: 'contractEvent',
          contractId: e.contractId,
          txid: e.txid,
          height,
          name: e.name,
          data: encodeValue(e.data),
        };
        text ??= JSON.stringify(message);
        this.send(sub, text);
      }
    }
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

  /**
   * The only way anything reaches a socket (pushes and replies to the
   * client's own requests alike): a socket whose queue is over the bound is
   * closed instead of being queued more. Returns false when it was dropped.
   */
  send(sub: Subscriber, text: string): boolean {
    if (!this.subscribers.has(sub)) return false;
    if (sub.socket.bufferedAmount + text.length > this.limits.maxBufferedBytes) {
      this.dropped?.inc({ reason: 'slow-consumer' });
      this.remove(sub);
      this.logger.debug(
        { address: sub.client.address, buffered: sub.socket.bufferedAmount },
        'stream: slow consumer dropped',
      );
      if (sub.socket.terminate !== undefined) sub.socket.terminate();
      else sub.socket.close(1013, 'subscriber too slow');
      return false;
    }
    sub.socket.send(text);
    return true;
  }

  private unwatch(key: string): void {
    const n = (this.watched.get(key) ?? 0) - 1;
    if (n <= 0) this.watched.delete(key);
    else this.watched.set(key, n);
  }
}

function increment(map: Map<string, number>, key: string, by: number): void {
  const n = (map.get(key) ?? 0) + by;
  if (n <= 0) map.delete(key);
  else map.set(key, n);
}

export type { Subscriber };
