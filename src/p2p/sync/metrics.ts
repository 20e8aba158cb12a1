import { Counter, Gauge, type Registry } from 'prom-client';
import type { SyncStatus } from './status.ts';

export interface SyncMetrics {
  readonly blocks: Counter;
  readonly transactions: Counter;
  readonly requests: Counter<'result'>;
  readonly penalties: Counter<'reason'>;
}

const STATE_VALUE = { idle: 0, syncing: 1, synced: 2 } as const;

/**
 * Sync metrics on the node registry. Counters are updated by the syncer;
 * gauges read `status()` at scrape time.
 */
export function createSyncMetrics(registry: Registry, status: () => SyncStatus): SyncMetrics {
  const gauge = (name: string, help: string, read: (s: SyncStatus) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(status()));
      },
    });
  gauge(
    'utxod_sync_state',
    'Block sync state: 0 idle, 1 syncing, 2 synced',
    (s) => STATE_VALUE[s.state],
  );
  gauge(
    'utxod_sync_target_height',
    'Sync target: the highest height proven by valid blocks, agreed by peers, or claimed by a peer that backs its claims',
    (s) => s.targetHeight,
  );
  gauge('utxod_sync_current_height', 'Height of the local chain tip', (s) => s.currentHeight);
  gauge(
    'utxod_sync_rate_blocks_per_second',
    'Recent block import rate of sync',
    (s) => s.blocksPerSecond,
  );
  gauge(
    'utxod_sync_eta_seconds',
    'Estimated seconds until caught up (-1 unknown)',
    (s) => s.etaSeconds ?? -1,
  );
  gauge('utxod_sync_peers', 'Peers sync can download from', (s) => s.peers);
  gauge('utxod_sync_ranges_in_flight', 'Block range requests outstanding', (s) => s.rangesInFlight);
  return {
    blocks: new Counter({
      name: 'utxod_sync_blocks_total',
      help: 'Blocks downloaded and connected by sync',
      registers: [registry],
    }),
    transactions: new Counter({
      name: 'utxod_sync_transactions_total',
      help: 'Transactions in blocks connected by sync',
      registers: [registry],
    }),
    requests: new Counter({
      name: 'utxod_sync_range_requests_total',
      help: 'Block range requests by result (ok, partial, timeout, failed, invalid)',
      labelNames: ['result'],
      registers: [registry],
    }),
    penalties: new Counter({
      name: 'utxod_sync_peer_penalties_total',
      help: 'Penalties sync reported against peers, by reason code',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
