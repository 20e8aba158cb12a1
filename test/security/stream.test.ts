/**
 * Attacks on the WebSocket stream of a real API server on loopback: a client
 * that never reads, one token holding every slot, and malformed frames.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { captureLogger } from '../support/capture-logger.ts';
import { openRawWs } from '../support/raw-ws.ts';
import { type SecureApiFixture, startSecureApi } from '../support/secure-api.ts';

async function waitFor(what: string, test: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('stream: buffering and slots', { timeout: 60_000 }, () => {
  let f: SecureApiFixture;
  const captured = captureLogger('debug');
  before(async () => {
    f = await startSecureApi({
      server: {
        stream: { maxSocketsPerSubject: 2, maxSocketsPerAddress: 4, maxBufferedBytes: 256 * 1024 },
      },
      logger: captured.logger,
    });
  });
  after(() => f.close());

  const streamUrl = () => `${f.url}/api/v1/stream`;

  it('drops a client that never reads the replies to its own requests', async () => {
    const ws = await openRawWs(streamUrl(), {
      authorization: `Bearer ${f.token('slow', 'reader')}`,
    });
    ws.pause();
    assert.equal(f.api.hub.size, 1);
    const id = 'x'.repeat(4000);
    // ~24 MB of replies at most: more than loopback's socket buffers hold, so
    // without a bound on the reply path the server's heap takes the rest.
    for (let i = 0; i < 6000 && f.api.hub.size > 0; i++) {
      try {
        await ws.sendText(JSON.stringify({ op: 'ping', id: `${i}${id}` }));
      } catch {
        break; // the server hung up on us: what we want
      }
    }
    await waitFor('the slow reader to be dropped', () => f.api.hub.size === 0);
    assert.ok((await f.metric('utxod_api_stream_dropped_total', { reason: 'slow-consumer' })) >= 1);
    ws.destroy();
  });

  it('caps sockets per token subject and per address, not just in total', async () => {
    const a = f.token('holder', 'reader');
    const held = [
      await openRawWs(streamUrl(), { authorization: `Bearer ${a}` }),
      await openRawWs(streamUrl(), { authorization: `Bearer ${a}` }),
    ];
    await waitFor('two sockets', () => f.api.hub.size === 2);
    const third = await openRawWs(streamUrl(), { authorization: `Bearer ${a}` });
    assert.equal(await third.closed(), 1013, 'the same subject is refused a third socket');
    // Another client still gets in.
    const other = await openRawWs(streamUrl(), {
      authorization: `Bearer ${f.token('other', 'reader')}`,
    });
    await other.sendText(JSON.stringify({ op: 'ping', id: 7 }));
    await waitFor('pong', () => other.texts.some((t) => t.includes('pong')));
    // Fresh subjects from one address stop at the per-address cap (4).
    const more = await openRawWs(streamUrl(), {
      authorization: `Bearer ${f.token('third', 'reader')}`,
    });
    await waitFor('four sockets', () => f.api.hub.size === 4);
    const over = await openRawWs(streamUrl(), {
      authorization: `Bearer ${f.token('fourth', 'reader')}`,
    });
    assert.equal(await over.closed(), 1013, 'the address is over its cap');
    assert.ok((await f.metric('utxod_api_stream_dropped_total', { reason: 'subject-limit' })) >= 1);
    assert.ok((await f.metric('utxod_api_stream_dropped_total', { reason: 'address-limit' })) >= 1);
    for (const ws of [...held, other, more]) ws.destroy();
    await waitFor('sockets released', () => f.api.hub.size === 0);
  });

  it('logs malformed frames as one warn line without a stack, not an error per frame', async () => {
    const token = f.token('sloppy', 'reader');
    captured.lines.length = 0;
    for (let i = 0; i < 20; i++) {
      const ws = await openRawWs(streamUrl(), { authorization: `Bearer ${token}` });
      // Reserved opcode 3: a protocol error that ws reports as WS_ERR_INVALID_OPCODE.
      await ws.sendFrame(3, Buffer.from('junk'));
      await ws.closed();
    }
    await waitFor('sockets released', () => f.api.hub.size === 0);
    const errors = captured.lines.filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], 'a client mistake is not an error-level line');
    const warns = captured.lines.filter((l) => l.level === 40 && l.msg === 'stream client error');
    assert.equal(warns.length, 1, 'rate-limited to one warn line');
    assert.ok(!captured.lines.some((l) => JSON.stringify(l).includes('    at ')), 'no stack');
  });

  it('answers a plain GET of the stream route in the error shape', async () => {
    const r = await f.call('GET', '/api/v1/stream', { token: f.token('plain', 'reader') });
    assert.equal(r.status, 426);
    assert.equal(r.body.error?.code, 'UPGRADE_REQUIRED');
    assert.equal(typeof r.body.requestId, 'string');
  });
});
