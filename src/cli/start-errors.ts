import type { NodeConfig } from '../config/index.ts';
import { CliError } from './shared.ts';

/**
 * A start that fails on something the operator set (a port another process
 * holds) becomes one line naming the flag and the config key to change; any
 * other failure passes through unchanged.
 */
export function explainStartFailure(
  error: unknown,
  config: Pick<
    NodeConfig,
    'rpcHost' | 'rpcPort' | 'metricsHost' | 'metricsPort' | 'p2pHost' | 'p2pPort'
  >,
): unknown {
  const inUse = findAddressInUse(error);
  if (inUse === null) return error;
  const which =
    inUse.port === config.rpcPort
      ? { flag: '--rpc-port', key: 'rpcPort', what: 'API', host: config.rpcHost }
      : inUse.port === config.metricsPort
        ? { flag: '--metrics-port', key: 'metricsPort', what: 'metrics', host: config.metricsHost }
        : inUse.port === config.p2pPort || inUse.p2p
          ? { flag: '--p2p-port', key: 'p2pPort', what: 'p2p', host: config.p2pHost }
          : null;
  if (which === null) return error;
  return new CliError(
    'PORT_IN_USE',
    `the ${which.what} port ${which.host}:${inUse.port ?? '?'} is already in use (another utxod?): ` +
      `pass ${which.flag} N (0 picks a free port) or set "${which.key}" in utxod.json`,
    { port: inUse.port, flag: which.flag },
  );
}

/** EADDRINUSE anywhere in the error's cause chain (libp2p wraps the socket error). */
function findAddressInUse(error: unknown): { port: number | null; p2p: boolean } | null {
  let p2p = false;
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const current = queue.shift();
    if (current === null || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    const e = current as {
      code?: unknown;
      port?: unknown;
      name?: unknown;
      message?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    if (typeof e.name === 'string' && /Listen|Multiaddr|Transport/i.test(e.name)) p2p = true;
    const message = typeof e.message === 'string' ? e.message : '';
    if (e.code === 'EADDRINUSE' || message.includes('EADDRINUSE')) {
      const port =
        typeof e.port === 'number'
          ? e.port
          : Number(/:(\d{1,5})\b/.exec(message)?.[1] ?? Number.NaN);
      return { port: Number.isInteger(port) ? port : null, p2p };
    }
    queue.push(e.cause);
    if (Array.isArray(e.errors)) queue.push(...e.errors);
  }
  return null;
}
