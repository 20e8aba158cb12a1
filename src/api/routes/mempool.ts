import { HEADER_SIZE } from '../../primitives/index.ts';
import { toHex } from '../../util/index.ts';
import { withErrors } from '../schemas/common.ts';
import {
  FeeEstimateResponse,
  MempoolEntriesQuery,
  MempoolEntriesResponse,
  MempoolSummaryResponse,
} from '../schemas/mempool.ts';
import type { ApiApp, ApiContext } from './context.ts';

/** Room the block producer leaves for header, commit and coinbase (as src/node/block-producer.ts). */
const BLOCK_OVERHEAD_BYTES = HEADER_SIZE + 70_000;
/** A template is rebuilt at most this often for estimates: building one walks the pool. */
const ESTIMATE_TTL_MS = 1000;

export function registerMempoolRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain, mempool } = ctx;

  app.get(
    '/api/v1/mempool',
    {
      config: { auth: 'reader' },
      schema: {
        tags: ['mempool'],
        summary: 'Mempool size, fee floor and counters',
        response: withErrors({ 200: MempoolSummaryResponse }),
      },
    },
    async () => {
      const stats = mempool.stats;
      return {
        size: mempool.size,
        bytes: mempool.bytes,
        maxBytes: mempool.options.maxBytes,
        minFeeRate: mempool.minFeeRate.toString(),
        minRelayFeeRate: mempool.options.minRelayFeeRate.toString(),
        orphans: stats.orphans,
        accepted: stats.accepted,
        rejected: { ...stats.rejected },
        evicted: stats.evicted,
        replaced: stats.replaced,
        expired: stats.expired,
      };
    },
  );

  app.get(
    '/api/v1/mempool/txs',
    {
      config: { auth: 'reader' },
      schema: {
        tags: ['mempool'],
        summary: 'Mempool entries in arrival order (parents before children), paged by offset',
        querystring: MempoolEntriesQuery,
        response: withErrors({ 200: MempoolEntriesResponse }),
      },
    },
    async (request) => {
      const { limit, offset } = request.query;
      const items = [];
      let i = 0;
      for (const entry of mempool.entries()) {
        if (i++ < offset) continue;
        if (items.length === limit) break;
        items.push({
          txid: toHex(entry.txid),
          fee: entry.fee.toString(),
          size: entry.size,
          feeRate: entry.feeRate.toString(),
          time: entry.time,
          ancestorCount: entry.ancestorCount,
          descendantCount: entry.descendantCount,
        });
      }
      const total = mempool.size;
      return { total, items, next: offset + items.length < total ? offset + items.length : null };
    },
  );

  let cached: { at: number; key: string; value: FeeEstimateResponse } | null = null;
  app.get(
    '/api/v1/fees/estimate',
    {
      config: { auth: 'reader' },
      schema: {
        tags: ['mempool'],
        summary: 'Fee rate likely to get a transaction into the next block',
        description:
          'When the next block template is full, the lowest fee rate in it; otherwise the mempool minimum. Never below the minimum relay fee rate.',
        response: withErrors({ 200: FeeEstimateResponse }),
      },
    },
    async () => {
      const now = Date.now();
      const key = `${chain.tipHeight}:${mempool.size}:${mempool.bytes}`;
      if (cached !== null && cached.key === key && now - cached.at < ESTIMATE_TTL_MS)
        return cached.value;
      const capacity = chain.params.maxBlockBytes - BLOCK_OVERHEAD_BYTES;
      const template = mempool.blockTemplate({ maxBytes: capacity });
      // "Full": the next transaction of a typical size would not fit any more.
      const full = template.bytes > capacity - 1000;
      let feeRate = mempool.minFeeRate;
      if (full) {
        // Outbidding the cheapest transaction that made it in is what displaces it.
        let lowest: bigint | null = null;
        for (const tx of template.txs) {
          const rate = mempool.get(tx.txid)?.feeRate;
          if (rate !== undefined && (lowest === null || rate < lowest)) lowest = rate;
        }
        if (lowest !== null && lowest + 1n > feeRate) feeRate = lowest + 1n;
      }
      const value = {
        feeRate: feeRate.toString(),
        minRelayFeeRate: mempool.options.minRelayFeeRate.toString(),
        mempoolMinFeeRate: mempool.minFeeRate.toString(),
        nextBlock: { txs: template.txs.length, bytes: template.bytes, full },
      };
      cached = { at: now, key, value };
      return value;
    },
  );
}
