/** A real pino logger whose JSON lines are kept in memory, so tests can assert on what was logged. */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

export interface CapturedLogger {
  readonly logger: Logger;
  readonly lines: Array<Record<string, unknown> & { level: number; msg?: string }>;
}

export function captureLogger(level: pino.Level = 'debug'): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString('utf8').split('\n'))
        if (text !== '') lines.push(JSON.parse(text) as CapturedLogger['lines'][number]);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}
