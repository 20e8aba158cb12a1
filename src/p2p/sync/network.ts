/**
 * Sync uses the network's own peer model, not one of its own: `PeerSource`
 * (who passed the handshake, their statuses, block-ahead hints, and the one
 * place misbehaviour is reported) and the req/resp client for requests by
 * peer id. The node hands it the P2PHost and a `PacedClient` over the host's
 * req/resp engine; the sync tests hand it an in-memory network
 * (test/support/sync-fixture.ts), so the whole algorithm runs without sockets.
 */
import type {
  BlockWithCommit,
  PeerEvents,
  PeerInfo,
  PeerSource,
  ReqRespClient,
  StatusMessage,
} from '../reqresp/index.ts';

export type { BlockWithCommit, PeerEvents, PeerInfo, PeerSource, StatusMessage };

/**
 * The requests sync makes. A peer may answer a block range with a non-empty
 * prefix (its tip, or a response size limit); anything else that is not
 * exactly the asked heights is a protocol violation. Errors that carry a
 * `penalty` (SyncError, VerificationError) say what the peer's fault cost;
 * anything else costs `Penalty.requestFailed`.
 */
export type SyncClient = Pick<
  ReqRespClient,
  'getStatus' | 'getBlocksByRange' | 'getMempoolTxids' | 'getTransactions'
>;
