import type { FastifyBaseLogger } from 'fastify';

/**
 * Fastify logs "Server listening at URL" at info for each address it binds
 * (two for `localhost`, one per interface for 0.0.0.0), while the node logs
 * one structured line per listener ("api listening", "metrics listening", with
 * `url`) that tests and operators read. The framework's lines are demoted to
 * debug so the default level shows each listener once (issue #12).
 */
const LISTEN_TEXT = 'fastify listening at ';

/** The `listenTextResolver` to pass to `app.listen` together with `demoteListenLines`. */
export function listenText(address: string): string {
  return `${LISTEN_TEXT}${address}`;
}

/** Makes the framework's listen lines (from `listenText`) debug lines on this Fastify logger. */
export function demoteListenLines(log: FastifyBaseLogger): void {
  // `this`, not `log`: a child logger that inherits this method logs with its own bindings.
  const info = log.info as (...args: unknown[]) => void;
  log.info = function (this: FastifyBaseLogger, ...args: unknown[]) {
    if (typeof args[0] === 'string' && args[0].startsWith(LISTEN_TEXT)) {
      this.debug(args[0]);
      return;
    }
    info.apply(this, args);
  } as FastifyBaseLogger['info'];
}
