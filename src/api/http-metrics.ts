import { Counter, Histogram, type Registry } from 'prom-client';

export interface HttpMetrics {
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route' | 'status'>;
  /** Counts one answered request and its duration. */
  record(method: string, route: string, status: number, seconds: number): void;
}

const REQUESTS = 'utxod_http_requests_total';
const DURATION = 'utxod_http_request_duration_seconds';

/**
 * Request count and latency by route pattern (never the raw URL: txids in
 * paths would make a series per transaction). Reuses the metrics when the
 * registry has them already, so a restarted API server keeps counting.
 */
export function httpMetrics(registry: Registry): HttpMetrics {
  const requests =
    (registry.getSingleMetric(REQUESTS) as Counter<'method' | 'route' | 'status'> | undefined) ??
    new Counter({
      name: REQUESTS,
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric(DURATION) as Histogram<'method' | 'route' | 'status'> | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'Time to answer an HTTP request, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    });
  // Label children cached per series: prom-client otherwise hashes a label object on every call.
  const series = new Map<string, { count: () => void; observe: (seconds: number) => void }>();
  const record = (method: string, route: string, status: number, seconds: number) => {
    const key = `${method} ${status} ${route}`;
    let child = series.get(key);
    if (child === undefined) {
      const counter = requests.labels(method, route, String(status));
      const histogram = duration.labels(method, route, String(status));
      child = { count: () => counter.inc(), observe: (value) => histogram.observe(value) };
      series.set(key, child);
    }
    child.count();
    child.observe(seconds);
  };
  return { requests, duration, record };
}
