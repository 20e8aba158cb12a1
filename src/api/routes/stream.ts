import { addressToLock } from '../../primitives/index.ts';
import { asError } from '../../util/index.ts';
import { MAX_ADDRESSES_PER_SOCKET, type StreamSocket } from '../stream-hub.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { hrpOf } from './json.ts';

/** Client messages are tiny; anything bigger is abuse. */
export const STREAM_MAX_MESSAGE_BYTES = 4096;

/** The part of ws's WebSocket used here (the package ships no types). */
interface Socket extends StreamSocket {
  on(event: 'message', listener: (data: Buffer, isBinary: boolean) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

interface ClientMessage {
  op?: unknown;
  channel?: unknown;
  address?: unknown;
  id?: unknown;
}

/**
 * `/api/v1/stream`: one WebSocket, JSON text frames. The client sends
 * `{"op":"subscribe","channel":"blocks"}` or
 * `{"op":"subscribe","channel":"address","address":"<bech32m>"}` (and
 * "unsubscribe"); the server answers `{"type":"subscribed",...}` and then
 * pushes `{"type":"block",...}` and `{"type":"tx",...}` (docs/api.md).
 */
export function registerStreamRoute(app: ApiApp, ctx: ApiContext): void {
  const { hub } = ctx;
  app.get(
    '/api/v1/stream',
    {
      websocket: true,
      config: { auth: 'reader' },
      schema: {
        tags: ['stream'],
        summary: 'WebSocket: new blocks and an address’s transactions (see docs/api.md)',
      },
    },
    (socket: Socket, request) => {
      const sub = hub.add(socket);
      if (sub === null) {
        socket.close(1013, 'too many subscribers');
        return;
      }
      const reply = (message: Record<string, unknown>) => socket.send(JSON.stringify(message));
      const fail = (code: string, message: string, id: unknown) =>
        reply({ type: 'error', ...(id === undefined ? {} : { id }), error: { code, message } });
      socket.on('message', (data, isBinary) => {
        if (isBinary) return fail('VALIDATION_ERROR', 'send JSON text frames', undefined);
        let msg: ClientMessage;
        try {
          msg = JSON.parse(String(data)) as ClientMessage;
        } catch {
          return fail('VALIDATION_ERROR', 'not JSON', undefined);
        }
        if (typeof msg !== 'object' || msg === null)
          return fail('VALIDATION_ERROR', 'expected a JSON object', undefined);
        const id = typeof msg.id === 'string' || typeof msg.id === 'number' ? msg.id : undefined;
        if (msg.op === 'ping') return reply({ type: 'pong', ...(id === undefined ? {} : { id }) });
        if (msg.op !== 'subscribe' && msg.op !== 'unsubscribe')
          return fail('VALIDATION_ERROR', 'op must be subscribe, unsubscribe or ping', id);
        const on = msg.op === 'subscribe';
        const done = {
          type: on ? 'subscribed' : 'unsubscribed',
          ...(id === undefined ? {} : { id }),
        };
        if (msg.channel === 'blocks') {
          sub.blocks = on;
          return reply({ ...done, channel: 'blocks' });
        }
        if (msg.channel !== 'address' || typeof msg.address !== 'string' || msg.address.length > 90)
          return fail(
            'VALIDATION_ERROR',
            'channel must be "blocks" or "address" with an address',
            id,
          );
        let lock: ReturnType<typeof addressToLock>;
        try {
          lock = addressToLock(msg.address, hrpOf(ctx.chain.params));
        } catch (error) {
          return fail('INVALID_ADDRESS', asError(error).message, id);
        }
        if (!on) {
          hub.unsubscribeAddress(sub, lock);
        } else if (!hub.subscribeAddress(sub, lock, msg.address)) {
          return fail(
            'VALIDATION_ERROR',
            `at most ${MAX_ADDRESSES_PER_SOCKET} addresses per connection`,
            id,
          );
        }
        return reply({ ...done, channel: 'address', address: msg.address });
      });
      socket.on('close', () => hub.remove(sub));
      socket.on('error', (error) => {
        request.log.debug({ err: error }, 'stream socket error');
        hub.remove(sub);
      });
    },
  );
}
