import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { Chain } from '../chain/chain.ts';
import { silentLogger } from '../logger/index.ts';
import type { Mempool } from '../mempool/mempool.ts';
import {
  MAX_ADDRESSES_PER_SOCKET,
  type StreamClient,
  StreamHub,
  type StreamSocket,
  type Subscriber,
} from './stream-hub.ts';

class FakeSocket implements StreamSocket {
  bufferedAmount = 0;
  readonly sent: string[] = [];
  closed: number | null = null;
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number): void {
    this.closed = code ?? 1000;
  }
}

function hub(maxSockets = 2): StreamHub {
  return new StreamHub(
    { maxSockets, maxSocketsPerSubject: 2, maxSocketsPerAddress: 3, maxBufferedBytes: 1024 },
    {
      chain: {} as Chain,
      mempool: { events: new EventEmitter() } as unknown as Mempool,
      logger: silentLogger(),
    },
  );
}

const anon: StreamClient = { subject: null, address: '10.0.0.1' };

function added(h: StreamHub, client = anon): Subscriber {
  const sub = h.add(new FakeSocket(), client);
  assert.ok(!('refused' in sub));
  return sub;
}

describe('StreamHub', () => {
  it('bounds connections and addresses per connection', () => {
    const h = hub(1);
    const sub = added(h);
    assert.deepEqual(h.add(new FakeSocket(), anon), { refused: 'total-limit' });
    for (let i = 0; i < MAX_ADDRESSES_PER_SOCKET; i++) {
      const hash = new Uint8Array(32);
      new DataView(hash.buffer).setUint32(0, i);
      assert.ok(h.subscribeAddress(sub, { type: 0, hash }, `a${i}`));
    }
    assert.equal(
      h.subscribeAddress(sub, { type: 0, hash: new Uint8Array(32).fill(9) }, 'x'),
      false,
    );
    h.remove(sub);
    assert.equal(h.size, 0);
  });

  it('disconnects a subscriber that stops reading', () => {
    const h = hub();
    const socket = new FakeSocket();
    const sub = h.add(socket, anon) as Subscriber;
    assert.equal(h.send(sub, '{}'), true);
    socket.bufferedAmount = 1023;
    assert.equal(h.send(sub, '{}'), false);
    assert.equal(socket.closed, 1013);
    assert.equal(socket.sent.length, 1);
    assert.equal(h.size, 0);
    assert.equal(h.send(sub, '{}'), false, 'a dropped subscriber gets nothing more');
  });

  it('caps sockets per subject and per address, and frees slots on remove', () => {
    const h = hub(100);
    const a = { subject: 'key:a', address: '10.0.0.1' };
    const first = added(h, a);
    added(h, a);
    assert.deepEqual(h.add(new FakeSocket(), a), { refused: 'subject-limit' });
    added(h, { subject: 'key:b', address: '10.0.0.1' });
    assert.deepEqual(h.add(new FakeSocket(), { subject: 'key:c', address: '10.0.0.1' }), {
      refused: 'address-limit',
    });
    added(h, { subject: 'key:c', address: '10.0.0.2' });
    h.remove(first);
    added(h, { subject: 'key:a', address: '10.0.0.3' });
  });
});
