export type SyncState = 'idle' | 'syncing' | 'synced';

/** What the node-status route and /health/ready read. */
export interface SyncStatus {
  /** idle: no usable peer status yet; syncing: downloading; synced: caught up, following gossip. */
  readonly state: SyncState;
  readonly currentHeight: number;
  /** Proven by valid blocks, agreed by several peers, or claimed by a peer that backs its claims (at least the current height); a lone claim does not count. */
  readonly targetHeight: number;
  /** Blocks connected per second over the last few seconds. */
  readonly blocksPerSecond: number;
  /** Seconds until caught up at the current rate; null when unknown. */
  readonly etaSeconds: number | null;
  readonly peers: number;
  readonly rangesInFlight: number;
}
