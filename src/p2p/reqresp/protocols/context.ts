import type { Block, CommitCertificate, Transaction } from '../../../primitives/index.ts';
import type { ProposalMessage, VoteMessage } from '../../consensus-messages.ts';
import type { StatusMessage } from '../../messages.ts';

/** What the BFT engine serves for catch-up: the messages it holds for its current height. */
export interface ConsensusCatchupSource {
  votesAt(height: number, round: number): VoteMessage[];
  proposalByHash(blockHash: Uint8Array): ProposalMessage | null;
}

/** The read-only node state the inbound handlers serve from. */
export interface HandlerContext {
  readonly chain: {
    readonly tipHeight: number;
    getHashAt(height: number): Promise<Uint8Array | undefined>;
    getBlockAt(height: number): Promise<Block | undefined>;
    getBlockByHash(hash: Uint8Array): Promise<Block | undefined>;
    getCommitAt(height: number): Promise<CommitCertificate | undefined>;
    /** Lowest stored height (a chain that began from a snapshot has none below); absent: 0. */
    earliestHeight?(): Promise<number>;
  };
  readonly mempool: {
    get(txid: Uint8Array): { readonly tx: Transaction } | undefined;
    entries(): Iterable<{ readonly txid: Uint8Array }>;
  };
  localStatus(): StatusMessage;
  /** A requester sent its status: check it (may disconnect the peer). */
  onRemoteStatus(peerId: string, status: StatusMessage): void;
  /** The running BFT engine's messages, for consensus catch-up; absent or null: none. */
  consensus?(): ConsensusCatchupSource | null;
}

/**
 * Thrown by a handler before it yields anything to answer with an error frame
 * (the requester sees REQRESP_SERVER_ERROR, which costs the server no score):
 * for requests an honest node cannot serve, e.g. blocks below a snapshot.
 */
export class RequestRefused extends Error {}

/** Serves one decoded request: yields the response items in order. */
export type RequestHandler<Req, Item> = (
  request: Req,
  peerId: string,
  ctx: HandlerContext,
) => AsyncIterable<Item>;
