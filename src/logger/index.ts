import pino, { type LevelWithSilent, type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger } from 'pino';
export const LOG_LEVELS: readonly LevelWithSilent[] = [
  'fatal',
  'error',
  'warn',
  'info',
  'debug',
  'trace',
  'silent',
];

export interface LoggerOptions {
  readonly level: LevelWithSilent;
  /** 'auto': pretty when stdout is a terminal, JSON otherwise. */
  readonly format: 'json' | 'pretty' | 'auto';
}

/**
 * JSON lines for machines (the default off a terminal), colourised lines for
 * people. Security-relevant events are logged at warn or above with an
 * `event` field so they can be filtered.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const usePretty =
    opts.format === 'pretty' || (opts.format === 'auto' && process.stdout.isTTY === true);
  const base = { level: opts.level, base: { pid: process.pid } };
  if (!usePretty) return pino(base);
  return pino(
    base,
    pretty({ colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }),
  );
}

/** A logger that discards everything: for tests and offline tools that print their own output. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
