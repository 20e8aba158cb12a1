import type { Logger } from 'pino';
import type { Block } from '../../primitives/index.ts';
import { compareBytes, toHex } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import type { BatchVerifier } from '../signatures.ts';
import { type DuplicateVoteEvidence, EvidencePool, encodeEvidence } from '../staking/index.ts';
import type { ValidatorSet } from '../validator-set.ts';
import type { ConsensusVerdict, PenaliseFn } from './driver.ts';
import type { EvidenceMessage } from './messages.ts';

const PEER_FAULTS: ReadonlySet<string> = new Set([
  'EVIDENCE_MALFORMED',
  'EVIDENCE_NOT_CONFLICTING',
  'EVIDENCE_BAD_SIGNATURE',
]);

/** What the intake reads from the chain. */
export interface EvidenceChainView {
  readonly chainIdHash: Uint8Array;
  readonly tipHeight: number;
  validatorsAt(height: number): ValidatorSet;
}

/**
 * The two votes of an evidence message as the staking rules' evidence: the
 * signer's key from the set of that height, the block hashes in canonical
 * order. Null if the votes are not of one validator, height, round and type.
 */
export function toDuplicateVote(
  m: EvidenceMessage,
  set: ValidatorSet,
): DuplicateVoteEvidence | null {
  const { voteA: a, voteB: b } = m;
  if (a.validatorIndex !== b.validatorIndex || a.height !== b.height) return null;
  if (a.round !== b.round || a.type !== b.type) return null;
  const member = set.validators[a.validatorIndex];
  if (member === undefined) return null;
  const [first, second] = compareBytes(a.blockHash, b.blockHash) < 0 ? [a, b] : [b, a];
  return {
    voteType: a.type,
    height: a.height,
    round: a.round,
    consensusKey: member.publicKey,
    blockHashA: first.blockHash,
    signatureA: first.signature,
    blockHashB: second.blockHash,
    signatureB: second.signature,
  };
}

/**
 * Feeds the evidence pool from the engine: equivocations the driver saw
 * itself, and evidence gossiped by peers (verified before it is kept; a
 * peer that sends forged or malformed evidence is penalised).
 */
export class EvidenceIntake {
  readonly pool = new EvidencePool();
  private readonly chain: EvidenceChainView;
  private readonly verifier: BatchVerifier;
  private readonly penalise: PenaliseFn;
  private readonly logger: Logger;

  constructor(modules: {
    chain: EvidenceChainView;
    verifier: BatchVerifier;
    penalise: PenaliseFn;
    logger: Logger;
  }) {
    this.chain = modules.chain;
    this.verifier = modules.verifier;
    this.penalise = modules.penalise;
    this.logger = modules.logger;
  }

  /**
   * What a proposer of `height` may include: pooled evidence of earlier
   * heights (a block commits evidence of heights below its own), oldest
   * first, at most `maxBytes` encoded.
   */
  candidates(height: number, maxBytes: number): DuplicateVoteEvidence[] {
    return this.pool.pending(maxBytes, (e) => e.height < height);
  }

  /**
   * After our proposal was built from `candidates`: the ones it left out
   * broke a chain rule that does not heal (committed already, validator
   * tombstoned, expired), so they leave the pool instead of being offered
   * at every height.
   */
  leftOut(candidates: readonly DuplicateVoteEvidence[], block: Block): void {
    const included = new Set(block.evidence.map((e) => toHex(encodeEvidence(e))));
    const refused = candidates.filter((e) => !included.has(toHex(encodeEvidence(e))));
    if (refused.length === 0) return;
    this.pool.remove(refused);
    this.logger.info(
      { event: 'evidence-dropped', count: refused.length },
      'pooled evidence the chain no longer accepts was dropped',
    );
  }

  /** Removes `block`'s evidence from the pool; logs each piece at warn. Returns how many. */
  committed(block: Block): number {
    this.pool.remove(block.evidence);
    for (const e of block.evidence) {
      const member = this.chain.validatorsAt(e.height).indexOf(e.consensusKey);
      this.logger.warn(
        {
          event: 'evidence-committed',
          height: block.height,
          evidenceHeight: e.height,
          round: e.round,
          voteType: e.voteType,
          key: toHex(e.consensusKey),
          validatorIndex: member,
        },
        'duplicate vote evidence committed: validator slashed and tombstoned',
      );
    }
    return block.evidence.length;
  }

  /** `peerId` null: our own driver's detection. */
  async receive(m: EvidenceMessage, peerId: string | null): Promise<ConsensusVerdict> {
    const { chain } = this;
    const evidence = toDuplicateVote(m, chain.validatorsAt(m.voteA.height));
    try {
      if (evidence === null) {
        throw new VerificationError('EVIDENCE_MALFORMED', 'the votes are not one validator’s');
      }
      const added = await this.pool.add(evidence, {
        chainIdHash: chain.chainIdHash,
        validatorsAt: (h) => chain.validatorsAt(h),
        tipHeight: chain.tipHeight,
        verifier: this.verifier,
      });
      if (added) {
        this.logger.warn(
          { event: 'evidence-pooled', key: toHex(evidence.consensusKey), height: evidence.height },
          'duplicate vote evidence verified and pooled',
        );
      }
      return added ? 'accept' : 'ignore';
    } catch (error) {
      if (!(error instanceof VerificationError)) throw error;
      // Only what no honest peer sends costs a penalty; a key or height our
      // view of the sets does not confirm yet may be a race: dropped quietly.
      if (!PEER_FAULTS.has(error.code)) {
        this.logger.debug({ code: error.code, peerId }, 'evidence not pooled');
        return 'ignore';
      }
      if (peerId !== null) this.penalise(peerId, error.penalty, error.message);
      this.logger.warn({ code: error.code, peerId }, 'evidence refused');
      return 'reject';
    }
  }
}
