export type { MempoolEntryView } from './entry.ts';
export * from './errors.ts';
export { compareFeeRate, type FeeAndSize, feeRatePerKb, paysFeeRate } from './feerate.ts';
export {
  type AdmissionResult,
  type BlockRemovalResult,
  type LoadResult,
  Mempool,
  type MempoolChainView,
  type MempoolModules,
  type MempoolStats,
  type TxOrigin,
} from './mempool.ts';
export * from './options.ts';
export { SNAPSHOT_MAGIC, SNAPSHOT_VERSION, type SnapshotEntry } from './snapshot.ts';
export type { BlockTemplate, TemplateLimits } from './template.ts';
