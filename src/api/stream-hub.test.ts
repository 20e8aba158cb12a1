import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type { Chain } from '../chain/chain.ts';
import { silentLogger } from '../logger/index.ts';
import type { Mempool } from '../mempool/mempool.ts';
import { MAX_ADDRESSES_PER_SOCKET, StreamHub, type StreamSocket } from './stream-hub.ts';

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
    {
      chain: {} as Chain,
      mempool: { events: new EventEmitter() } as unknown as Mempool,
      logger: silentLogger(),
    },
    maxSockets,
  );
}

describe('StreamHub', () => {
  it('bounds connections and addresses per connection', () => {
    const h = hub(1);
    const sub = h.add(new FakeSocket());
    assert.ok(sub !== null);
    assert.equal(h.add(new FakeSocket()), null);
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
    const sub = h.add(socket)!;
    socket.bufferedAmount = 64 * 1024 * 1024;
    h.send(sub, '{}');
    assert.equal(socket.closed, 1013);
    assert.equal(socket.sent.length, 0);
    assert.equal(h.size, 0);
  });
});
