export {
  BanList,
  type BanRecord,
  banPeer,
  listBans,
  MAX_BAN_DURATION_MS,
  parsePeerId,
  unbanPeer,
} from './bans.ts';
export * from './consensus-messages.ts';
export { P2PError, type P2PErrorCode } from './errors.ts';
export type { ConsensusGossip, ConsensusGossipHandler } from './gossip-validators.ts';
export {
  identityPath,
  P2PHost,
  type P2PModules,
  type P2POptions,
  type P2PStatus,
  type PeerSummary,
} from './host.ts';
export { peerIdentity } from './identity.ts';
export * from './messages.ts';
export { createP2PMetrics, type P2PMetrics } from './metrics.ts';
export * from './reqresp/index.ts';
export { BAN_THRESHOLD, bansAtOnce, PeerScores, Penalty } from './scoring.ts';
export { MAX_MESSAGE_BYTES, TOPIC_KINDS, type TopicKind, topicKind, topicName } from './topics.ts';
