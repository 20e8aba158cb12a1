import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Where a connected block came from. */
export type BlockSource = 'producer' | 'sync' | 'gossip';

export interface ChainMetrics {
  readonly height: Gauge;
  readonly blocksConnected: Counter<'source'>;
  readonly blockConnectSeconds: Histogram<'source'>;
  readonly txsConnected: Counter;
  readonly blockRejections: Counter<'code'>;
}

/** Counters and histograms the block import path updates. */
export function createChainMetrics(registry: Registry): ChainMetrics {
  return {
    height: new Gauge({
      name: 'utxod_chain_height',
      help: 'Height of the chain tip',
      registers: [registry],
    }),
    blocksConnected: new Counter({
      name: 'utxod_blocks_connected_total',
      help: 'Blocks validated and connected, by source',
      labelNames: ['source'],
      registers: [registry],
    }),
    blockConnectSeconds: new Histogram({
      name: 'utxod_block_connect_duration_seconds',
      help: 'Time to validate and commit one block',
      labelNames: ['source'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    txsConnected: new Counter({
      name: 'utxod_transactions_connected_total',
      help: 'Transactions in connected blocks, coinbases included',
      registers: [registry],
    }),
    blockRejections: new Counter({
      name: 'utxod_block_rejections_total',
      help: 'Blocks that failed validation, by error code',
      labelNames: ['code'],
      registers: [registry],
    }),
  };
}

export interface StateSources {
  readonly mempool: {
    readonly size: number;
    readonly bytes: number;
    readonly stats: {
      readonly orphans: number;
      readonly orphanSources: number;
      readonly orphansSourceLimited: number;
    };
  };
  readonly utxoCache: {
    readonly size: number;
    readonly allocatedBytes: number;
    readonly stats: { readonly hits: number; readonly misses: number };
  };
  readonly signatureCache: {
    readonly size: number;
    readonly hits: number;
    readonly misses: number;
  } | null;
}

/**
 * Gauges read from the subsystems at scrape time, so the hot paths do not pay
 * for metrics they already count. Cumulative hit/miss counts are exposed as
 * counters (`_total`) by reporting the difference since the last scrape.
 */
export function registerStateMetrics(registry: Registry, sources: StateSources): void {
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  const counter = (name: string, help: string, read: () => number) => {
    let last = 0;
    return new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const now = read();
        if (now > last) this.inc(now - last);
        last = now;
      },
    });
  };
  gauge('utxod_mempool_transactions', 'Transactions in the mempool', () => sources.mempool.size);
  gauge('utxod_mempool_bytes', 'Summed size of mempool transactions', () => sources.mempool.bytes);
  gauge('utxod_mempool_orphans', 'Orphan transactions held', () => sources.mempool.stats.orphans);
  gauge(
    'utxod_mempool_orphan_senders',
    'API clients and peers holding orphan transactions',
    () => sources.mempool.stats.orphanSources,
  );
  counter(
    'utxod_mempool_orphans_sender_limited_total',
    'Orphans dropped because their sender (API client or peer) held its share of the orphan pool',
    () => sources.mempool.stats.orphansSourceLimited,
  );
  gauge(
    'utxod_utxo_cache_entries',
    'Coins in the in-memory UTXO cache',
    () => sources.utxoCache.size,
  );
  gauge(
    'utxod_utxo_cache_bytes',
    'Bytes held by the UTXO cache',
    () => sources.utxoCache.allocatedBytes,
  );
  counter(
    'utxod_utxo_cache_hits_total',
    'UTXO cache lookups answered from memory',
    () => sources.utxoCache.stats.hits,
  );
  counter(
    'utxod_utxo_cache_misses_total',
    'UTXO cache lookups that went to LevelDB',
    () => sources.utxoCache.stats.misses,
  );
  const sigCache = sources.signatureCache;
  if (sigCache !== null) {
    gauge('utxod_signature_cache_entries', 'Verified signatures remembered', () => sigCache.size);
    counter(
      'utxod_signature_cache_hits_total',
      'Signature checks skipped thanks to the cache',
      () => sigCache.hits,
    );
    counter(
      'utxod_signature_cache_misses_total',
      'Signature checks that had to verify',
      () => sigCache.misses,
    );
  }
}
