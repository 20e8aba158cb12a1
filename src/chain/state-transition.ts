import {
  type ConsensusParams,
  type DuplicateVoteEvidence,
  isStakingPayloadType,
  readValidatorSet,
  type SetMember,
  type SignatureJob,
  StakingBlock,
  type TxStakingEffect,
  VerificationError,
} from '../consensus/index.ts';
import type { Coin, CommitCertificate, Transaction } from '../primitives/index.ts';
import { StateOverlay, type StateReader } from '../state/index.ts';
import { bytesKey } from '../util/index.ts';
import type { ContractRuntime } from '../vm/index.ts';
import { type BlockContractSummary, ContractTransition } from './contract-transition.ts';
import { applyBlockEvidence, type EvidenceHistory } from './evidence-rules.ts';

/** What of a block the state transition reads: nothing of the header but height and time. */
export interface StateTransitionInput {
  readonly height: number;
  readonly time: number;
  readonly lastCommit: CommitCertificate;
  readonly txs: readonly Transaction[];
  /** For each transaction, the coins its inputs spend (contract-locked ones run their spend rule). */
  readonly spentByTx: readonly (readonly Coin[])[];
  /** Duplicate-vote evidence the block commits (none if omitted). */
  readonly evidence?: readonly DuplicateVoteEvidence[];
}

export interface StateTransition {
  /** The block's state writes, staged over the parent's state. */
  readonly overlay: StateOverlay;
  /** For each transaction index with a staking payload, the value it moved. */
  readonly effects: ReadonlyMap<number, TxStakingEffect>;
  /** Indexes of the transactions left out (only with `dropInvalid`). */
  readonly dropped: ReadonlySet<number>;
  /** The set this block scheduled for height + 2. */
  readonly scheduled: readonly SetMember[];
  /** Deploys, calls and spend rules the block ran (docs/contracts.md). */
  readonly contracts: BlockContractSummary;
  /** The vote signatures of the block's evidence, for the caller's batch check. */
  readonly evidenceJobs: readonly SignatureJob[];
  /** Indexes of the evidence left out (only with `dropInvalid`). */
  readonly droppedEvidence: ReadonlySet<number>;
}

const NO_EFFECT: TxStakingEffect = { valueIn: 0n, valueOut: 0n };

export function stakingEffectOf(t: StateTransition, txIndex: number): TxStakingEffect {
  return t.effects.get(txIndex) ?? NO_EFFECT;
}

/**
 * The state store's part of connecting a block, in block order
 * (docs/staking.md): liveness from the carried commit, the committed
 * evidence (slashing, tombstones; src/chain/evidence-rules.ts), each staking
 * transaction (operator = the key of the first input's witness), then the
 * end-of-block validator-set schedule. Contract work (spend rules of
 * contract-locked inputs, deploys, calls) runs on the same overlay in block
 * order, before the transaction's staking rule. Pure over `base`: every write lands in
 * the returned overlay. The carried commit's structure must have been checked
 * already (indexes in range), as `certificateJobs` does.
 */
export async function runStateTransition(
  base: StateReader,
  input: StateTransitionInput,
  ctx: {
    readonly params: ConsensusParams;
    readonly chainIdHash: Uint8Array;
    readonly contracts: ContractRuntime;
    /** Needed only when the block carries evidence. */
    readonly evidenceHistory?: EvidenceHistory;
  },
  opts: { readonly dropInvalid?: boolean } = {},
): Promise<StateTransition> {
  const overlay = new StateOverlay(base);
  const staking = new StakingBlock(overlay, {
    params: ctx.params.staking,
    height: input.height,
    timeMs: input.time,
    chainIdHash: ctx.chainIdHash,
  });
  const contracts = new ContractTransition(overlay, input, ctx);
  if (input.height > 1) {
    const members = await readValidatorSet(overlay, input.height - 1);
    if (members === undefined)
      throw new RangeError(`no validator set stored for ${input.height - 1}`);
    const signed = members.map(() => false);
    for (const s of input.lastCommit.signatures) {
      if (s.validatorIndex < signed.length) signed[s.validatorIndex] = true;
    }
    await staking.recordLastCommit(signed);
  }
  let evidence: { jobs: SignatureJob[]; dropped: ReadonlySet<number> } = {
    jobs: [],
    dropped: new Set(),
  };
  if (input.evidence !== undefined && input.evidence.length > 0) {
    if (ctx.evidenceHistory === undefined) throw new RangeError('evidence without its history');
    evidence = await applyBlockEvidence(
      staking,
      overlay,
      input.evidence,
      { height: input.height, chainIdHash: ctx.chainIdHash, history: ctx.evidenceHistory },
      opts,
    );
  }
  const effects = new Map<number, TxStakingEffect>();
  const dropped = new Set<number>();
  const droppedTxids = new Set<string>();
  for (const [i, tx] of input.txs.entries()) {
    if (opts.dropInvalid && tx.inputs.some((x) => droppedTxids.has(bytesKey(x.prevout.txid)))) {
      // It spends an output of a dropped transaction: it cannot be in the block either.
      dropped.add(i);
      droppedTxids.add(bytesKey(tx.txid));
      continue;
    }
    try {
      // Contract work first: a spend rule only reads, so a staking rule that
      // then fails leaves no contract write behind either.
      if (!tx.isCoinbase) await contracts.apply(i, tx, input.spentByTx[i] ?? []);
      if (tx.payload === null || !isStakingPayloadType(tx.payload.type)) continue;
      effects.set(i, await staking.applyTx(tx.payload, tx.witnesses[0]?.publicKey ?? null));
    } catch (error) {
      // A failed rule leaves no write behind (applyTx works on a fork).
      if (!opts.dropInvalid || !(error instanceof VerificationError)) throw error;
      dropped.add(i);
      droppedTxids.add(bytesKey(tx.txid));
    }
  }
  const { afterNext } = await staking.endBlock();
  return {
    overlay,
    effects,
    dropped,
    scheduled: afterNext,
    contracts: contracts.summary(),
    evidenceJobs: evidence.jobs,
    droppedEvidence: evidence.dropped,
  };
}
