/**
 * Gossip topics: `/utxod/<chainId>/<kind>/<version>`. The message body is the
 * canonical encoding named per kind (docs/p2p.md); the version in the topic
 * changes with any incompatible change of that encoding.
 */
import { EVIDENCE_MAX_BYTES, PROPOSAL_MAX_BYTES, VOTE_BYTES } from './consensus-messages.ts';
import { MAX_BLOCK_MESSAGE_BYTES } from './messages.ts';
import { TX_BATCH_MAX_BYTES } from './tx-batch.ts';

export const TOPIC_KINDS = ['tx', 'block', 'proposal', 'vote', 'evidence'] as const;
export type TopicKind = (typeof TOPIC_KINDS)[number];

export const TOPIC_VERSION: Record<TopicKind, number> = {
  // 2: a batch of transactions (tx-batch.ts) instead of one.
  tx: 2,
  block: 1,
  proposal: 1,
  vote: 1,
  evidence: 1,
};

/** Largest message data accepted on each topic (checked before decoding). */
export const MAX_MESSAGE_BYTES: Record<TopicKind, number> = {
  tx: TX_BATCH_MAX_BYTES,
  block: MAX_BLOCK_MESSAGE_BYTES,
  proposal: PROPOSAL_MAX_BYTES,
  vote: VOTE_BYTES,
  evidence: EVIDENCE_MAX_BYTES,
};

export function topicName(chainId: string, kind: TopicKind): string {
  return `/utxod/${chainId}/${kind}/${TOPIC_VERSION[kind]}`;
}

/** The kind of one of this chain's topics, or null for any other topic. */
export function topicKind(chainId: string, topic: string): TopicKind | null {
  for (const kind of TOPIC_KINDS) if (topicName(chainId, kind) === topic) return kind;
  return null;
}
