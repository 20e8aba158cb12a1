import { UtxodError } from '../util/index.ts';
import type { AddressTxMessage, BlockMessage } from './types.ts';

export class StreamError extends UtxodError<'STREAM_CLOSED' | 'STREAM_ERROR' | 'STREAM_TIMEOUT'> {}

/** The part of the WebSocket API used here: the browser's, Node's global (>= 22) or `ws`. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}

export interface StreamClientOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8645 (http becomes ws). */
  readonly url: string;
  /** A reader token: browsers cannot set headers on a WebSocket, so it goes as ?access_token=. */
  readonly token?: string;
  /** Defaults to the global WebSocket. */
  readonly WebSocket?: new (
    url: string,
  ) => WebSocketLike;
  readonly timeoutMs?: number;
}

type Listener = (message: BlockMessage | AddressTxMessage) => void;

interface Pending {
  resolve(): void;
  reject(error: Error): void;
}

/**
 * `/api/v1/stream`: committed blocks and an address's transactions as they
 * happen (docs/api.md). Subscriptions are acknowledged before their promise
 * resolves, so nothing committed after `await subscribeBlocks()` is missed.
 */
export class StreamClient {
  private readonly socket: WebSocketLike;
  private readonly timeoutMs: number;
  private readonly listeners = new Set<Listener>();
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  private constructor(socket: WebSocketLike, timeoutMs: number) {
    this.socket = socket;
    this.timeoutMs = timeoutMs;
  }

  static connect(opts: StreamClientOptions): Promise<StreamClient> {
    const url = new URL(`${opts.url.replace(/\/+$/, '')}/api/v1/stream`);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (opts.token !== undefined && opts.token !== '')
      url.searchParams.set('access_token', opts.token);
    const Socket =
      opts.WebSocket ??
      (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
    if (Socket === undefined)
      throw new StreamError('STREAM_ERROR', 'no WebSocket implementation: pass opts.WebSocket');
    const socket = new Socket(url.toString());
    const client = new StreamClient(socket, opts.timeoutMs ?? 30_000);
    return new Promise((resolve, reject) => {
      socket.addEventListener('open', () => resolve(client));
      socket.addEventListener('error', () =>
        reject(new StreamError('STREAM_ERROR', `cannot open the stream at ${opts.url}`)),
      );
      socket.addEventListener('close', () => client.onClose());
      socket.addEventListener('message', (event) => client.handleFrame(event.data));
    });
  }

  /** Every committed block from now on. */
  subscribeBlocks(): Promise<void> {
    return this.request({ op: 'subscribe', channel: 'blocks' });
  }

  /** Transactions paying or spending `address`, at mempool entry and at commit. */
  subscribeAddress(address: string): Promise<void> {
    return this.request({ op: 'subscribe', channel: 'address', address });
  }

  /** Returns a function that removes the listener. */
  onMessage(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves with the block that commits `txid` (subscribe to blocks first). */
  waitForCommit(txid: string, timeoutMs = this.timeoutMs): Promise<BlockMessage> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new StreamError('STREAM_TIMEOUT', `transaction ${txid} not committed in time`));
      }, timeoutMs);
      const off = this.onMessage((message) => {
        if (message.type !== 'block' || !message.txids.includes(txid)) return;
        clearTimeout(timer);
        off();
        resolve(message);
      });
    });
  }

  close(): void {
    this.closed = true;
    this.socket.close(1000, 'client done');
  }

  private request(body: Record<string, unknown>): Promise<void> {
    if (this.closed)
      return Promise.reject(new StreamError('STREAM_CLOSED', 'the stream is closed'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new StreamError('STREAM_TIMEOUT', `no answer to ${String(body['op'])} in time`));
      }, this.timeoutMs);
      this.pending.set(id, {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.socket.send(JSON.stringify({ ...body, id }));
    });
  }

  private handleFrame(data: unknown): void {
    if (typeof data !== 'string' || data.length > 1_000_000) return;
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(data) as Record<string, unknown>;
    } catch {
      // The server sends JSON text only; a frame that is not is dropped, not fatal.
      return;
    }
    const id = typeof message['id'] === 'number' ? message['id'] : undefined;
    const waiting = id === undefined ? undefined : this.pending.get(id);
    if (waiting !== undefined && id !== undefined) {
      this.pending.delete(id);
      if (message['type'] === 'error') {
        const error = message['error'] as { code?: string; message?: string } | undefined;
        waiting.reject(
          new StreamError('STREAM_ERROR', `${error?.code ?? 'ERROR'}: ${error?.message ?? ''}`),
        );
      } else waiting.resolve();
      return;
    }
    if (message['type'] === 'block' || message['type'] === 'tx')
      for (const listener of this.listeners)
        listener(message as unknown as BlockMessage | AddressTxMessage);
  }

  private onClose(): void {
    this.closed = true;
    for (const waiting of this.pending.values())
      waiting.reject(new StreamError('STREAM_CLOSED', 'the stream closed'));
    this.pending.clear();
  }
}
