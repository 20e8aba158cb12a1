import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { StateSyncStatus } from './state-sync.ts';

export interface SnapshotMetrics {
  readonly lastHeight: Gauge;
  readonly created: Counter;
  readonly failures: Counter;
  readonly createSeconds: Histogram;
}

/** Snapshot writer metrics (Lodestar's createXMetrics shape; null in tests without Prometheus). */
export function createSnapshotMetrics(registry: Registry): SnapshotMetrics {
  return {
    lastHeight: new Gauge({
      name: 'utxod_snapshot_last_height',
      help: 'Height of the newest snapshot this node wrote',
      registers: [registry],
    }),
    created: new Counter({
      name: 'utxod_snapshots_created_total',
      help: 'Snapshots written',
      registers: [registry],
    }),
    failures: new Counter({
      name: 'utxod_snapshot_failures_total',
      help: 'Snapshots that failed to be written',
      registers: [registry],
    }),
    createSeconds: new Histogram({
      name: 'utxod_snapshot_create_seconds',
      help: 'Time to write one snapshot',
      buckets: [0.1, 0.5, 1, 5, 15, 60, 300],
      registers: [registry],
    }),
  };
}

/** State sync progress as gauges, read from the running sync at scrape time. */
export function registerStateSyncMetrics(
  registry: Registry,
  status: () => StateSyncStatus | null,
): void {
  const gauge = (name: string, help: string, read: (s: StateSyncStatus) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        const s = status();
        if (s !== null) this.set(read(s));
      },
    });
  gauge(
    'utxod_state_sync_chunks_done',
    'Snapshot chunks fetched and verified',
    (s) => s.chunksDone,
  );
  gauge(
    'utxod_state_sync_chunks_total',
    'Chunks of the snapshot being fetched',
    (s) => s.chunksTotal,
  );
  gauge('utxod_state_sync_bytes', 'Snapshot bytes fetched and verified', (s) => s.bytesDone);
  gauge('utxod_state_sync_eta_seconds', 'Estimated seconds left', (s) => s.etaSeconds ?? -1);
  gauge(
    'utxod_state_sync_peers',
    'Peers asked for snapshots (discovering) or serving the one being fetched',
    (s) => s.peers,
  );
}
