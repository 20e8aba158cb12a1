export { type Clock, systemClock, type Timer } from '../../util/index.ts';
export { SyncError, type SyncErrorCode } from './errors.ts';
export { createSyncMetrics, type SyncMetrics } from './metrics.ts';
export type {
  BlockWithCommit,
  PeerEvents,
  PeerInfo,
  PeerSource,
  StatusMessage,
  SyncClient,
} from './network.ts';
export { PacedClient, type PacedClientOptions } from './paced-client.ts';
export { checkRange, type RangeCheckContext, type RangeSignatureChecker } from './range-check.ts';
export {
  type Assignment,
  type Range,
  type RangeFault,
  RangeScheduler,
  type RangeSchedulerHooks,
  type RangeSchedulerOptions,
  type RangeVerdict,
} from './range-scheduler.ts';
export type { SyncState, SyncStatus } from './status.ts';
export {
  BlockSyncer,
  DEFAULT_SYNC_OPTIONS,
  type SyncChain,
  type SyncEvents,
  type SyncImporter,
  type SyncMempool,
  type SyncModules,
  type SyncOptions,
} from './syncer.ts';
