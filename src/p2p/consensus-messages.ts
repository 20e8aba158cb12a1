/**
 * Consensus gossip framing: the format belongs to the BFT engine
 * (src/consensus/bft/messages.ts); p2p only transports and decodes it.
 */
export {
  decodeEvidence,
  decodeProposal,
  decodeVote,
  EVIDENCE_MAX_BYTES,
  type EvidenceMessage,
  encodeEvidence,
  encodeProposal,
  encodeVote,
  PROPOSAL_MAX_BYTES,
  type ProposalMessage,
  VOTE_BYTES,
  type VoteMessage,
} from '../consensus/bft/index.ts';
