/**
 * A WebSocket client over a bare TCP socket, for attack tests: it can stop
 * reading (pause the socket) while it keeps sending, which no well-behaved
 * client library lets one do.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

export interface RawWs {
  readonly socket: Socket;
  /** Sends one masked text frame. Resolves when the kernel took it (respects backpressure). */
  sendText(text: string): Promise<void>;
  /** Sends one masked frame with any opcode and payload (for malformed-frame tests). */
  sendFrame(
    opcode: number,
    payload: Uint8Array,
    opts?: { fin?: boolean; mask?: boolean },
  ): Promise<void>;
  /** Stops reading: the server's replies pile up in its buffers. */
  pause(): void;
  /** Text frames received so far (only while reading). */
  readonly texts: string[];
  /** The close frame's code, when one arrived, or 'reset' / 'end' when the TCP side went away. */
  closed(): Promise<number | 'end'>;
  destroy(): void;
}

/** Opens `url` (http://host:port/path?query) with an upgrade; rejects with the HTTP status when refused. */
export function openRawWs(url: string, headers: Record<string, string> = {}): Promise<RawWs> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(target.port), target.hostname);
    const key = randomBytes(16).toString('base64');
    let buffer = Buffer.alloc(0);
    let upgraded = false;
    const texts: string[] = [];
    let closeCode: number | null = null;
    let done: ((v: number | 'end') => void) | null = null;
    const finished = new Promise<number | 'end'>((r) => {
      done = r;
    });
    socket.on('error', (error) => {
      if (!upgraded) reject(error);
    });
    socket.on('close', () => done?.(closeCode ?? 'end'));
    socket.on('connect', () => {
      const lines = [
        `GET ${target.pathname}${target.search} HTTP/1.1`,
        `Host: ${target.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        'Sec-WebSocket-Version: 13',
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!upgraded) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buffer.subarray(0, end).toString('latin1');
        const status = Number(head.split(' ')[1]);
        buffer = buffer.subarray(end + 4);
        if (status !== 101) {
          socket.destroy();
          reject(new Error(`upgrade refused with HTTP ${status}`));
          return;
        }
        upgraded = true;
        resolve(ws);
      }
      // Server frames are unmasked; lengths up to 64 bits.
      for (;;) {
        if (buffer.length < 2) return;
        const opcode = buffer[0]! & 0x0f;
        let length = buffer[1]! & 0x7f;
        let offset = 2;
        if (length === 126) {
          if (buffer.length < 4) return;
          length = buffer.readUInt16BE(2);
          offset = 4;
        } else if (length === 127) {
          if (buffer.length < 10) return;
          length = Number(buffer.readBigUInt64BE(2));
          offset = 10;
        }
        if (buffer.length < offset + length) return;
        const payload = buffer.subarray(offset, offset + length);
        if (opcode === 1) texts.push(payload.toString('utf8'));
        if (opcode === 8 && closeCode === null) {
          closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
          // Answer the close handshake as a client must, then report it.
          const mask = randomBytes(4);
          const echo = Buffer.from(payload.subarray(0, 2));
          for (let i = 0; i < echo.length; i++) echo[i]! ^= mask[i % 4]!;
          socket.end(Buffer.concat([Buffer.from([0x88, 0x80 | echo.length]), mask, echo]));
          done?.(closeCode);
        }
        buffer = buffer.subarray(offset + length);
      }
    });
    const write = (data: Buffer) =>
      new Promise<void>((res, rej) => {
        if (socket.destroyed) {
          rej(new Error('socket destroyed'));
          return;
        }
        if (socket.write(data)) res();
        else {
          const onDrain = () => {
            socket.off('close', onClose);
            res();
          };
          const onClose = () => {
            socket.off('drain', onDrain);
            rej(new Error('socket closed while sending'));
          };
          socket.once('drain', onDrain);
          socket.once('close', onClose);
        }
      });
    const ws: RawWs = {
      socket,
      texts,
      sendFrame(opcode, payload, opts = {}) {
        const mask = opts.mask ?? true;
        const fin = opts.fin ?? true;
        const len = payload.length;
        const header: number[] = [(fin ? 0x80 : 0) | opcode];
        const m = mask ? 0x80 : 0;
        if (len < 126) header.push(m | len);
        else if (len < 65536) header.push(m | 126, len >> 8, len & 0xff);
        else {
          header.push(m | 127, 0, 0, 0, 0);
          header.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
        }
        const maskKey = mask ? randomBytes(4) : Buffer.alloc(0);
        const body = Buffer.from(payload);
        if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= maskKey[i % 4]!;
        return write(Buffer.concat([Buffer.from(header), maskKey, body]));
      },
      sendText(text) {
        return ws.sendFrame(1, Buffer.from(text, 'utf8'));
      },
      pause() {
        socket.pause();
      },
      closed: () => finished,
      destroy() {
        socket.destroy();
      },
    };
  });
}
