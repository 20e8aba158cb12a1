/**
 * The request/response layer's public surface (its types live in types.ts).
 *
 * A peer is named by its libp2p peer id string (base58, `12D3Koo...`).
 */
export type { BlockWithCommit, StatusMessage } from '../messages.ts';
export { PROTOCOLS, ReqResp, ResponseCode } from './engine.ts';
export { ReqRespError, type ReqRespErrorCode } from './errors.ts';
export { blockByHashProtocol } from './protocols/block-by-hash.ts';
export { type BlocksByRangeRequest, blocksByRangeProtocol } from './protocols/blocks-by-range.ts';
export {
  type ConsensusCatchupSource,
  consensusVotesProtocol,
  proposalByHashProtocol,
} from './protocols/consensus-catchup.ts';
export {
  MAX_BLOCKS_PER_REQUEST,
  MAX_MEMPOOL_TXIDS,
  MAX_TXIDS_PER_REQUEST,
  TXIDS_PER_CHUNK,
} from './protocols/limits.ts';
export { mempoolTxidsProtocol } from './protocols/mempool-txids.ts';
export {
  MAX_SNAPSHOT_OFFERS,
  type SnapshotSource,
  snapshotChunkProtocol,
  snapshotManifestProtocol,
  snapshotsProtocol,
} from './protocols/snapshots.ts';
export { statusProtocol } from './protocols/status.ts';
export { transactionsProtocol } from './protocols/transactions.ts';
export type {
  PeerEvents,
  PeerIdStr,
  PeerInfo,
  PeerSource,
  ProtocolDescriptor,
  ReqRespClient,
  RequestOptions,
} from './types.ts';
