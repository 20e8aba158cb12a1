export type SyncState = 'idle' | 'syncing' | 'synced';

/** What the node-status route and /health/ready read. */
export interface SyncStatus {
  /** idle: no usable peer status yet; syncing: downloading; synced: caught up, following gossip. */
  readonly state: SyncState;
  readonly currentHeight: number;
  /** Highest height any usable peer reported (at least the current height). */
  readonly targetHeight: number;
  /** Blocks connected per second over the last few seconds. */
  readonly blocksPerSecond: number;
  /** Seconds until caught up at the current rate; null when unknown. */
  readonly etaSeconds: number | null;
  readonly peers: number;
  readonly rangesInFlight: number;
}
