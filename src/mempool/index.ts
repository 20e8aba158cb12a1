export type { MempoolEntryView } from './entry.ts';
export * from './errors.ts';
export { compareFeeRate, type FeeAndSize, feeRatePerKb, paysFeeRate } from './feerate.ts';
export { Mempool } from './mempool.ts';
export * from './options.ts';
export { SNAPSHOT_MAGIC, SNAPSHOT_VERSION, type SnapshotEntry } from './snapshot.ts';
export type { BlockTemplate, TemplateLimits } from './template.ts';
export type {
  AdmissionResult,
  BlockRemovalResult,
  LoadResult,
  MempoolChainView,
  MempoolModules,
  MempoolStats,
  TxOrigin,
} from './types.ts';
