import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../test/support/manual-clock.ts';
import { MemoryChain, spend, TestKey } from '../../test/support/mempool-fixture.ts';
import { DecodeError } from '../encoding/index.ts';
import { MAX_TX_BYTES } from '../primitives/index.ts';
import {
  decodeTxBatch,
  encodeTxBatch,
  TX_BATCH_MAX_BYTES,
  TX_BATCH_MAX_COUNT,
  TxBatcher,
} from './tx-batch.ts';

const key = new TestKey(5);
const chain = new MemoryChain();
const txs = [1n, 2n, 3n].map((n) => spend([chain.fund(key, n * 1_000_000n)], 10_000n));

describe('transaction batch messages', () => {
  it('round-trips, in order', () => {
    const bytes = encodeTxBatch(txs.map((t) => t.encode()));
    const back = decodeTxBatch(bytes);
    assert.deepEqual(
      back.map((t) => t.txid),
      txs.map((t) => t.txid),
    );
  });

  it('decodes strictly: empty, trailing bytes, over-long counts and oversize are errors', () => {
    assert.throws(() => decodeTxBatch(Uint8Array.of(0)), DecodeError);
    const good = encodeTxBatch([txs[0]!.encode()]);
    assert.throws(() => decodeTxBatch(Uint8Array.of(...good, 0)), DecodeError);
    // A count above the bound, before any transaction is read.
    const many = Uint8Array.of(
      0xfd,
      (TX_BATCH_MAX_COUNT + 1) & 0xff,
      (TX_BATCH_MAX_COUNT + 1) >> 8,
    );
    assert.throws(() => decodeTxBatch(many), DecodeError);
    // Non-minimal count (1 as 0xfd 0x01 0x00).
    assert.throws(() => decodeTxBatch(Uint8Array.of(0xfd, 1, 0, ...good.subarray(1))), DecodeError);
    assert.throws(() => decodeTxBatch(new Uint8Array(TX_BATCH_MAX_BYTES + 1)), DecodeError);
    // A transaction that does not decode.
    assert.throws(() => decodeTxBatch(Uint8Array.of(1, 3, 1, 2, 3)), DecodeError);
  });

  it('a largest transaction fits in a batch of its own', () => {
    const size = 9 + MAX_TX_BYTES + 1; // count, length prefix, body
    assert.ok(size <= TX_BATCH_MAX_BYTES);
  });
});

describe('TxBatcher', () => {
  it('publishes what arrived within the delay as one message', () => {
    const clock = new ManualClock();
    const sent: Uint8Array[] = [];
    const b = new TxBatcher({ clock, delayMs: 20, publish: (m) => sent.push(m) });
    b.add(txs[0]!.encode());
    clock.advance(10);
    b.add(txs[1]!.encode());
    assert.equal(sent.length, 0);
    clock.advance(10);
    assert.equal(sent.length, 1);
    assert.equal(decodeTxBatch(sent[0]!).length, 2);
    b.add(txs[2]!.encode());
    clock.advance(19);
    assert.equal(sent.length, 1);
    clock.advance(1);
    assert.equal(decodeTxBatch(sent[1]!).length, 1);
  });

  it('starts a new message when the next transaction would not fit', () => {
    const clock = new ManualClock();
    const sent: Uint8Array[] = [];
    const b = new TxBatcher({ clock, delayMs: 20, publish: (m) => sent.push(m) });
    const tx = txs[0]!.encode();
    for (let i = 0; i < TX_BATCH_MAX_COUNT + 1; i++) b.add(tx);
    assert.equal(sent.length, 1);
    assert.equal(decodeTxBatch(sent[0]!).length, TX_BATCH_MAX_COUNT);
    const big = new Uint8Array(MAX_TX_BYTES - 100);
    b.add(big); // does not fit beside the one pending: that one goes first
    assert.equal(sent.length, 2);
    assert.equal(decodeTxBatch(sent[1]!).length, 1);
    b.clear();
    clock.advance(100);
    assert.equal(sent.length, 2);
  });

  it('with no delay publishes each at once; flush sends what is pending', () => {
    const clock = new ManualClock();
    const sent: Uint8Array[] = [];
    const now = new TxBatcher({ clock, delayMs: 0, publish: (m) => sent.push(m) });
    now.add(txs[0]!.encode());
    assert.equal(sent.length, 1);
    const later = new TxBatcher({ clock, publish: (m) => sent.push(m) });
    later.add(txs[1]!.encode());
    later.flush();
    assert.equal(sent.length, 2);
    clock.advance(1000);
    assert.equal(sent.length, 2);
  });
});
