import { type Static, Type } from 'typebox';
import { Amount, FeeRate, Hash32, Limit, Timestamp } from './common.ts';

export const MempoolSummaryResponse = Type.Object({
  size: Type.Integer({ minimum: 0 }),
  bytes: Type.Integer({ minimum: 0 }),
  maxBytes: Type.Integer({ minimum: 0 }),
  minFeeRate: FeeRate,
  minRelayFeeRate: FeeRate,
  orphans: Type.Integer({ minimum: 0 }),
  accepted: Type.Integer({ minimum: 0 }),
  rejected: Type.Record(Type.String(), Type.Integer()),
  evicted: Type.Integer({ minimum: 0 }),
  replaced: Type.Integer({ minimum: 0 }),
  expired: Type.Integer({ minimum: 0 }),
});
export type MempoolSummaryResponse = Static<typeof MempoolSummaryResponse>;

export const MempoolEntriesQuery = Type.Object(
  { limit: Limit(1000, 100), offset: Type.Integer({ minimum: 0, default: 0 }) },
  { additionalProperties: false },
);
export const MempoolEntryJson = Type.Object({
  txid: Hash32,
  fee: Amount,
  size: Type.Integer(),
  feeRate: FeeRate,
  time: Timestamp,
  ancestorCount: Type.Integer(),
  descendantCount: Type.Integer(),
});
export const MempoolEntriesResponse = Type.Object({
  total: Type.Integer({ minimum: 0 }),
  items: Type.Array(MempoolEntryJson),
  next: Type.Union([Type.Integer(), Type.Null()], { description: 'offset of the next page' }),
});
export type MempoolEntriesResponse = Static<typeof MempoolEntriesResponse>;

export const FeeEstimateResponse = Type.Object({
  feeRate: FeeRate,
  minRelayFeeRate: FeeRate,
  mempoolMinFeeRate: FeeRate,
  nextBlock: Type.Object({
    txs: Type.Integer({ minimum: 0 }),
    bytes: Type.Integer({ minimum: 0 }),
    full: Type.Boolean(),
  }),
});
export type FeeEstimateResponse = Static<typeof FeeEstimateResponse>;
