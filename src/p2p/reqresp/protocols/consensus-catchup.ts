/**
 * Consensus catch-up by request/response: gossip never resends, so a node
 * that missed votes or a proposal asks a peer for them. Both answer from the
 * peer's current consensus height only (what its engine holds); every item is
 * decoded strictly and its signature checked by the requester's BFT driver
 * like a gossiped message.
 */
import { decodeExact, Writer } from '../../../encoding/index.ts';
import { HASH_SIZE, MAX_COMMIT_SIGNATURES } from '../../../primitives/index.ts';
import {
  decodeProposal,
  decodeVote,
  encodeProposal,
  encodeVote,
  PROPOSAL_MAX_BYTES,
  type ProposalMessage,
  VOTE_BYTES,
  type VoteMessage,
} from '../../consensus-messages.ts';
import { checkSize } from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import type { ConsensusCatchupSource, RequestHandler } from './context.ts';

export type { ConsensusCatchupSource } from './context.ts';

export interface ConsensusVotesRequest {
  readonly height: number;
  readonly round: number;
}

const VOTES_REQUEST_BYTES = 8;
/** Prevotes and precommits of every validator, each with up to two conflicting ones. */
export const MAX_VOTES_PER_RESPONSE = 2 * 3 * MAX_COMMIT_SIGNATURES;

/** Request: u32 height, u32 round. Response: the votes the peer holds for that round. */
export const consensusVotesProtocol: ProtocolDescriptor<ConsensusVotesRequest, VoteMessage> = {
  name: 'consensus_votes',
  protocolId: '/utxod/consensus_votes/1',
  maxRequestBytes: VOTES_REQUEST_BYTES,
  maxItemBytes: VOTE_BYTES,
  maxResponseItems: MAX_VOTES_PER_RESPONSE,
  timeoutMs: 5_000,
  quota: { requests: 100, perMs: 10_000 },
  encodeRequest: (req) => new Writer(VOTES_REQUEST_BYTES).u32(req.height).u32(req.round).finish(),
  decodeRequest: (bytes) => {
    checkSize(bytes, VOTES_REQUEST_BYTES, 'consensus_votes request');
    return decodeExact(bytes, 'consensus_votes request', (r) => ({
      height: r.u32('height'),
      round: r.u32('round'),
    }));
  },
  encodeItem: encodeVote,
  decodeItem: decodeVote,
};

/** Request: bytes[32] block hash. Response: zero or one proposal carrying that block. */
export const proposalByHashProtocol: ProtocolDescriptor<Uint8Array, ProposalMessage> = {
  name: 'proposal_by_hash',
  protocolId: '/utxod/proposal_by_hash/1',
  maxRequestBytes: HASH_SIZE,
  maxItemBytes: PROPOSAL_MAX_BYTES,
  maxResponseItems: 1,
  timeoutMs: 15_000,
  quota: { requests: 50, perMs: 10_000 },
  encodeRequest: (hash) => hash,
  decodeRequest: (bytes) => {
    checkSize(bytes, HASH_SIZE, 'proposal_by_hash request');
    return decodeExact(bytes, 'proposal_by_hash request', (r) => r.bytes(HASH_SIZE, 'hash'));
  },
  encodeItem: encodeProposal,
  decodeItem: decodeProposal,
};

export function consensusVotesHandler(
  source: () => ConsensusCatchupSource | null,
): RequestHandler<ConsensusVotesRequest, VoteMessage> {
  return async function* (request) {
    const votes = source()?.votesAt(request.height, request.round) ?? [];
    yield* votes.slice(0, MAX_VOTES_PER_RESPONSE);
  };
}

export function proposalByHashHandler(
  source: () => ConsensusCatchupSource | null,
): RequestHandler<Uint8Array, ProposalMessage> {
  return async function* (hash) {
    const proposal = source()?.proposalByHash(hash) ?? null;
    if (proposal !== null) yield proposal;
  };
}
