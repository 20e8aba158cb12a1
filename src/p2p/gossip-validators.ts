/**
 * What each topic accepts. Every validator bounds the size and decodes
 * strictly before anything else, then:
 * - tx: a batch of transactions (tx-batch.ts), each admitted by the mempool:
 *   any admitted -> accept (relay); only orphans or already known -> ignore;
 *   any rejected with a penalty -> reject with the largest one;
 * - block: imported through the BlockImporter (header, commit certificate and
 *   every rule checked) -> accept; known, stale or ahead of tip + 1 -> ignore;
 *   invalid -> reject with the VerificationError's penalty;
 * - proposal / vote / evidence: decoded, then handed to the consensus handler
 *   when one is installed (ignored otherwise).
 */
import type { Logger } from 'pino';
import type { ConnectResult } from '../chain/index.ts';
import { VerificationError } from '../consensus/index.ts';
import { DecodeError } from '../encoding/index.ts';
import type { AdmissionResult, TxOrigin } from '../mempool/index.ts';
import { MempoolError } from '../mempool/index.ts';
import type { Block, CommitCertificate, Transaction } from '../primitives/index.ts';
import { asError, bytesEqual, toHex } from '../util/index.ts';
import {
  decodeEvidence,
  decodeProposal,
  decodeVote,
  type EvidenceMessage,
  type ProposalMessage,
  type VoteMessage,
} from './consensus-messages.ts';
import type { GossipValidator, Verdict } from './gossip.ts';
import { decodeBlockWithCommit } from './messages.ts';
import type { P2PMetrics } from './metrics.ts';
import { Penalty } from './scoring.ts';
import type { TopicKind } from './topics.ts';
import { decodeTxBatch, TX_BATCH_MAX_BYTES } from './tx-batch.ts';

export type ConsensusGossip =
  | { readonly kind: 'proposal'; readonly message: ProposalMessage }
  | { readonly kind: 'vote'; readonly message: VoteMessage }
  | { readonly kind: 'evidence'; readonly message: EvidenceMessage };

/** The BFT engine's entry point for gossiped consensus messages. */
export type ConsensusGossipHandler = (peerId: string, message: ConsensusGossip) => Promise<Verdict>;

export interface ValidatorDeps {
  readonly chain: {
    readonly tipHeight: number;
    getHashAt(height: number): Promise<Uint8Array | undefined>;
  };
  /** `source` names the sending peer: the orphan pool bounds what each peer holds. */
  readonly mempool: {
    add(tx: Transaction, origin: TxOrigin, source?: string): Promise<AdmissionResult>;
  };
  readonly importer: {
    importBlock(block: Block, commit: CommitCertificate, source: 'gossip'): Promise<ConnectResult>;
  };
  readonly logger: Logger;
  readonly metrics: P2PMetrics | null;
  penalize(peerId: string, penalty: number, reason: string): void;
  /** A valid block beyond tip + 1 was gossiped: we are behind. */
  onBlockAhead(peerId: string, height: number): void;
  consensusHandler(): ConsensusGossipHandler | null;
  /** Block sync, while it wants gossiped transactions held until catch-up. */
  txDeferral(): TransactionDeferral | null;
}

/**
 * While a node catches up it cannot validate new transactions (their inputs
 * may be in blocks it has not connected yet); sync holds them and submits them
 * to the mempool after catch-up (src/p2p/sync BlockSyncer).
 */
export interface TransactionDeferral {
  readonly deferringTransactions: boolean;
  deferTransaction(tx: Transaction, peerId: string | null): void;
}

function counted(kind: TopicKind, deps: ValidatorDeps, validate: GossipValidator): GossipValidator {
  return async (peerId, data) => {
    let verdict: Verdict;
    try {
      verdict = await validate(peerId, data);
    } catch (error) {
      deps.logger.warn(
        { err: asError(error), topic: kind, peer: peerId },
        'gossip validation failed',
      );
      verdict = 'ignore';
    }
    deps.metrics?.gossipMessages.inc({ topic: kind, verdict });
    return verdict;
  };
}

function malformed(deps: ValidatorDeps, peerId: string, kind: TopicKind, error: unknown): Verdict {
  const reason = error instanceof DecodeError ? error.message : String(error);
  deps.penalize(peerId, Penalty.malformed, `malformed ${kind} gossip: ${reason}`);
  return 'reject';
}

/** Maps a rule violation to a verdict; penalty 0 (an honest race) only ignores. */
function rejected(
  deps: ValidatorDeps,
  peerId: string,
  kind: TopicKind,
  error: VerificationError | MempoolError,
): Verdict {
  if (error.penalty <= 0) return 'ignore';
  deps.penalize(peerId, error.penalty, `${kind} gossip: ${error.code}`);
  return 'reject';
}

/**
 * A batch of transactions (tx-batch.ts), admitted together so that their
 * signatures reach the verifier pool as one batch. Accepted (relayed) when
 * any was admitted; rejected when any broke a rule worth a penalty (the
 * largest one is charged, once per message); ignored otherwise.
 */
export function txValidator(deps: ValidatorDeps): GossipValidator {
  return counted('tx', deps, async (peerId, data) => {
    if (data.length > TX_BATCH_MAX_BYTES) return malformed(deps, peerId, 'tx', 'oversized');
    let txs: Transaction[];
    try {
      txs = decodeTxBatch(data);
    } catch (error) {
      return malformed(deps, peerId, 'tx', error);
    }
    const deferral = deps.txDeferral();
    if (deferral?.deferringTransactions === true) {
      for (const tx of txs) deferral.deferTransaction(tx, peerId);
      return 'ignore';
    }
    const outcomes = await Promise.all(txs.map((tx) => admitGossiped(deps, peerId, tx)));
    let worst: VerificationError | MempoolError | null = null;
    let admitted = false;
    for (const outcome of outcomes) {
      if (outcome === 'accept') admitted = true;
      else if (outcome !== 'ignore' && outcome.penalty > (worst?.penalty ?? 0)) worst = outcome;
    }
    if (worst !== null) return rejected(deps, peerId, 'tx', worst);
    return admitted ? 'accept' : 'ignore';
  });
}

async function admitGossiped(
  deps: ValidatorDeps,
  peerId: string,
  tx: Transaction,
): Promise<'accept' | 'ignore' | VerificationError | MempoolError> {
  let result: AdmissionResult;
  try {
    result = await deps.mempool.add(tx, 'peer', `peer:${peerId}`);
  } catch (error) {
    if (error instanceof MempoolError || error instanceof VerificationError) return error;
    throw error;
  }
  // Orphans this admission resolved are relayed by the node from the
  // mempool's 'accepted' event (origin 'orphan'), like every other admission.
  return result.status === 'orphan' ? 'ignore' : 'accept';
}

export function blockValidator(deps: ValidatorDeps): GossipValidator {
  return counted('block', deps, async (peerId, data) => {
    let item: ReturnType<typeof decodeBlockWithCommit>;
    try {
      item = decodeBlockWithCommit(data);
    } catch (error) {
      return malformed(deps, peerId, 'block', error);
    }
    const { block, commit } = item;
    const tip = deps.chain.tipHeight;
    if (block.height <= tip) return 'ignore';
    if (block.height > tip + 1) {
      deps.onBlockAhead(peerId, block.height);
      return 'ignore';
    }
    try {
      await deps.importer.importBlock(block, commit, 'gossip');
      return 'accept';
    } catch (error) {
      // Another path (sync, producer) may have connected this height meanwhile.
      const known = await deps.chain.getHashAt(block.height);
      if (known !== undefined) {
        if (bytesEqual(known, block.hash)) return 'ignore';
      }
      if (deps.chain.tipHeight + 1 !== block.height) return 'ignore';
      if (error instanceof VerificationError) {
        deps.logger.warn(
          { peer: peerId, height: block.height, hash: toHex(block.hash), code: error.code },
          'gossiped block rejected',
        );
        return rejected(deps, peerId, 'block', error);
      }
      throw error;
    }
  });
}

export function consensusValidator(
  kind: 'proposal' | 'vote' | 'evidence',
  deps: ValidatorDeps,
): GossipValidator {
  return counted(kind, deps, async (peerId, data) => {
    let message: ConsensusGossip;
    try {
      message =
        kind === 'proposal'
          ? { kind, message: decodeProposal(data) }
          : kind === 'vote'
            ? { kind, message: decodeVote(data) }
            : { kind, message: decodeEvidence(data) };
    } catch (error) {
      return malformed(deps, peerId, kind, error);
    }
    const handler = deps.consensusHandler();
    if (handler === null) return 'ignore';
    return handler(peerId, message);
  });
}
