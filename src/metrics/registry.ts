import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * One registry per node (never prom-client's global one), so tests can run
 * several nodes in a process and libp2p's metrics can share it explicitly.
 */
export function createMetricsRegistry(
  opts: { defaultMetrics: boolean } = { defaultMetrics: true },
): Registry {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  return registry;
}
