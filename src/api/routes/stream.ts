import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { addressToLock } from '../../primitives/index.ts';
import { asError } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import { ErrorRef } from '../schemas/common.ts';
import {
  MAX_ADDRESSES_PER_SOCKET,
  MAX_CONTRACTS_PER_SOCKET,
  type StreamSocket,
} from '../stream-hub.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { hrpOf } from './json.ts';

/** Client messages are tiny; anything bigger is abuse. */
export const STREAM_MAX_MESSAGE_BYTES = 4096;

/** At most one warn line per this period for clients' socket errors; the rest are counted. */
const SOCKET_ERROR_LOG_MS = 10_000;

/**
 * @fastify/websocket's errorHandler. A malformed frame, an oversized message or
 * an unclean disconnect is the client's mistake: one warn line without a stack
 * per period (with how many were suppressed), debug lines for the rest, and
 * the socket is dropped. Anything that is not a ws protocol error is ours and
 * keeps its stack.
 */
export function streamErrorHandler(
  logger: Logger,
  now: () => number = Date.now,
): (error: Error, socket: { terminate(): void }, request: FastifyRequest) => void {
  let windowStart = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (error, socket, request) => {
    socket.terminate();
    const code = (error as { code?: unknown }).code;
    const clientFault =
      (typeof code === 'string' && code.startsWith('WS_ERR_')) ||
      code === 'ECONNRESET' ||
      code === 'EPIPE';
    if (!clientFault) {
      logger.error({ err: error, reqId: request.id }, 'stream handler failed');
      return;
    }
    const line = { code, reason: error.message, ip: request.ip, reqId: request.id };
    const t = now();
    if (t - windowStart >= SOCKET_ERROR_LOG_MS) {
      logger.warn({ ...line, suppressed }, 'stream client error');
      windowStart = t;
      suppressed = 0;
    } else {
      suppressed++;
      logger.debug(line, 'stream client error');
    }
  };
}

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
  contract?: unknown;
  id?: unknown;
}

/**
 * `/api/v1/stream`: one WebSocket, JSON text frames. The client sends
 * `{"op":"subscribe","channel":"blocks"}` or
 * `{"op":"subscribe","channel":"address","address":"<bech32m>"}` or
 * `{"op":"subscribe","channel":"contract","contract":"<id hex>"}` (and
 * "unsubscribe"); the server answers `{"type":"subscribed",...}` and then
 * pushes `{"type":"block",...}`, `{"type":"tx",...}` and
 * `{"type":"contractEvent",...}` (docs/api.md).
 */
export function registerStreamRoute(app: ApiApp, ctx: ApiContext): void {
  const { hub } = ctx;
  app.route({
    method: 'GET',
    url: '/api/v1/stream',
    config: { auth: 'reader' },
    schema: {
      tags: ['stream'],
      operationId: 'openStream',
      response: { 426: ErrorRef },
      // Browsers cannot set headers on a WebSocket handshake: the token may come here.
      querystring: Type.Object(
        { access_token: Type.Optional(Type.String({ maxLength: 4096 })) },
        { additionalProperties: false },
      ),
      summary: 'WebSocket: new blocks and an address’s transactions (see docs/api.md)',
      description:
        'Open with a WebSocket upgrade; a plain GET answers 426 UPGRADE_REQUIRED in the error shape.',
    },
    // A plain GET (no upgrade) gets the error shape, not the plugin's empty 404.
    handler: async () => {
      throw new ApiError(426, 'UPGRADE_REQUIRED', 'this route is a WebSocket: send an upgrade');
    },
    wsHandler: (rawSocket, request) => {
      const socket = rawSocket as unknown as Socket;
      const sub = hub.add(socket, { subject: request.auth?.subject ?? null, address: request.ip });
      if ('refused' in sub) {
        socket.close(1013, `too many subscribers (${sub.refused})`);
        return;
      }
      // Through the hub: a client that never reads its replies is cut off like a slow subscriber.
      const reply = (message: Record<string, unknown>) => {
        hub.send(sub, JSON.stringify(message));
      };
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
        if (msg.channel === 'contract') {
          const contract = typeof msg.contract === 'string' ? msg.contract : '';
          if (!/^[0-9a-f]{64}$/.test(contract))
            return fail('VALIDATION_ERROR', 'contract must be a contract id (64 hex)', id);
          if (!on) hub.unsubscribeContract(sub, contract);
          else if (!hub.subscribeContract(sub, contract))
            return fail(
              'VALIDATION_ERROR',
              `at most ${MAX_CONTRACTS_PER_SOCKET} contracts per connection`,
              id,
            );
          return reply({ ...done, channel: 'contract', contract });
        }
        if (msg.channel !== 'address' || typeof msg.address !== 'string' || msg.address.length > 90)
          return fail(
            'VALIDATION_ERROR',
            'channel must be "blocks", "address" with an address, or "contract" with an id',
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
      socket.on('error', () => hub.remove(sub));
    },
  });
}
