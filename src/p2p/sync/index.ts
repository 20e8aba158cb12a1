export { type Clock, systemClock, type Timer } from '../../util/index.ts';
export { SyncError, type SyncErrorCode } from './errors.ts';
export { createSyncMetrics, type SyncMetrics } from './metrics.ts';
export {
  type BlockWithCommit,
  type PeerChainStatus,
  StaticPeerSet,
  type SyncPeer,
  type SyncPeerSet,
} from './peer-source.ts';
export { checkRange, type RangeCheckContext, type RangeSignatureChecker } from './range-check.ts';
export {
  ReqRespPeerSet,
  type ReqRespPeerSetOptions,
  ReqRespSyncPeer,
} from './reqresp-adapter.ts';
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
