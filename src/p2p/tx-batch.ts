/**
 * Transaction gossip in batches. Each gossip message costs every peer a
 * frame, an AEAD seal and open, a message-id hash, duplicate tracking and a
 * relay; at a few thousand transactions a second on a small network that
 * per-message cost, not the transactions, dominated a node's CPU (4-validator
 * testnet profile, docs/performance.md). A node therefore publishes what it
 * admitted within `delayMs` as one message:
 *
 *   varint n (1..TX_BATCH_MAX_COUNT), n x varbytes transaction
 *
 * strictly decoded (no trailing bytes, minimal varints, each transaction at
 * most MAX_TX_BYTES, the whole at most TX_BATCH_MAX_BYTES).
 */
import { DecodeError, decodeExact, Writer } from '../encoding/index.ts';
import { MAX_TX_BYTES, Transaction } from '../primitives/index.ts';
import type { Clock, Timer } from '../util/index.ts';
import { checkSize } from './messages.ts';

/** Most transactions in one batch message. */
export const TX_BATCH_MAX_COUNT = 1024;
/** Largest batch message: one transaction of MAX_TX_BYTES always fits on its own. */
export const TX_BATCH_MAX_BYTES = MAX_TX_BYTES + 16;
/** How long an admitted transaction may wait for others before it is published. */
export const TX_BATCH_DELAY_MS = 20;

const varintSize = (n: number): number =>
  n < 0xfd ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9;

export function encodeTxBatch(txs: readonly Uint8Array[]): Uint8Array {
  let size = varintSize(txs.length);
  for (const tx of txs) size += varintSize(tx.length) + tx.length;
  const w = new Writer(size).varint(txs.length);
  for (const tx of txs) w.varBytes(tx);
  return w.finish();
}

export function decodeTxBatch(bytes: Uint8Array): Transaction[] {
  checkSize(bytes, TX_BATCH_MAX_BYTES, 'tx batch');
  return decodeExact(bytes, 'tx batch', (r) => {
    const n = r.varint(TX_BATCH_MAX_COUNT, 'txBatch.count');
    if (n === 0) throw new DecodeError('invalid-value', r.what, { field: 'txBatch.count' });
    const txs: Transaction[] = [];
    for (let i = 0; i < n; i++) txs.push(Transaction.decode(r.varBytes(MAX_TX_BYTES, 'tx')));
    return txs;
  });
}

/**
 * Collects encoded transactions and hands them to `publish` as batch
 * messages: after `delayMs` from the first one, or at once when the next one
 * would not fit (count or bytes).
 */
export class TxBatcher {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private timer: Timer | null = null;
  private readonly clock: Clock;
  private readonly delayMs: number;
  private readonly publish: (batch: Uint8Array) => void;

  constructor(opts: { clock: Clock; delayMs?: number; publish: (batch: Uint8Array) => void }) {
    this.clock = opts.clock;
    this.delayMs = opts.delayMs ?? TX_BATCH_DELAY_MS;
    this.publish = opts.publish;
  }

  add(tx: Uint8Array): void {
    const size = varintSize(tx.length) + tx.length;
    const full =
      this.pending.length + 1 > TX_BATCH_MAX_COUNT ||
      varintSize(this.pending.length + 1) + this.pendingBytes + size > TX_BATCH_MAX_BYTES;
    if (full) this.flush();
    this.pending.push(tx);
    this.pendingBytes += size;
    if (this.delayMs <= 0) this.flush();
    else if (this.timer === null)
      this.timer = this.clock.setTimeout(() => this.flush(), this.delayMs);
  }

  /** Publishes what is pending now (also on close, so nothing admitted stays unsent). */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const txs = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    this.publish(encodeTxBatch(txs));
  }

  /** Drops what is pending and stops the timer. */
  clear(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    this.pendingBytes = 0;
  }
}
