/**
 * Consensus gossip framing: the format belongs to the BFT engine
 * (src/consensus/bft/messages.ts); p2p only transports and decodes it.
 */
export * from '../consensus/bft/messages.ts';
