import { blockSubsidy } from '../consensus/index.ts';
import type { DuplicateVoteEvidence, Lock } from '../primitives/index.ts';
import {
  Block,
  CommitCertificate,
  evidenceRoot,
  HEADER_VERSION,
  Header,
  merkleRoot,
  Transaction,
  TX_VERSION,
} from '../primitives/index.ts';
import { resolveUtxoChanges } from './block-verifier.ts';
import type { Chain } from './chain.ts';
import { applyUtxoChanges } from './utxo-changes.ts';

export interface BlockProposalInput {
  /** Mempool-ordered transactions (parents before children), already checked by the mempool. */
  readonly txs: readonly Transaction[];
  /**
   * The mempool's sum of fees (inputs + withdrawn - outputs - bonded). If it
   * is absent, or a staking transaction had to be dropped, the assembler
   * computes them from the coins.
   */
  readonly fees?: bigint;
  readonly proposer: Uint8Array;
  /** Where the block reward and fees go. */
  readonly rewardLock: Lock;
  /** Proposed time; raised to parent time + 1 ms if the clock is behind. */
  readonly time: number;
  /**
   * Pending evidence, oldest first, within the block's evidence bound (see
   * `evidenceCandidates`); a piece the chain would refuse is left out.
   */
  readonly evidence?: readonly DuplicateVoteEvidence[];
}

/**
 * Builds the next block on the tip: coinbase paying subsidy + fees, the
 * parent's commit certificate, Merkle root and the UTXO commitment after the
 * block. The result still goes through full validation at connect.
 */
export async function assembleBlock(chain: Chain, input: BlockProposalInput): Promise<Block> {
  const tip = chain.tip;
  const height = tip.height + 1;
  const time = Math.max(input.time, tip.header.time + 1);
  const lastCommit =
    height === 1
      ? CommitCertificate.empty(chain.genesisHash)
      : await chain.requireCommitAt(tip.height);
  // The state transition first: a staking transaction that no longer passes
  // its rule on this tip (a conflicting one of the same operator went first)
  // is left out, with whatever spends its outputs.
  const first = await chain.previewState(
    { height, time, lastCommit, txs: input.txs, evidence: input.evidence ?? [] },
    { dropInvalid: true },
  );
  const kept = input.txs.filter((_, i) => !first.dropped.has(i));
  const evidence = (input.evidence ?? []).filter((_, i) => !first.droppedEvidence.has(i));
  const preview =
    kept.length === input.txs.length && first.droppedEvidence.size === 0
      ? first
      : await chain.previewState({ height, time, lastCommit, txs: kept, evidence });
  const fees =
    input.fees !== undefined && first.dropped.size === 0
      ? input.fees
      : await feesOf(chain, kept, height, preview.effects);
  const coinbase = coinbaseTx(height, blockSubsidy(chain.params, height) + fees, input.rewardLock);
  const txs = [coinbase, ...kept];
  const utxoRoot = applyUtxoChanges(
    chain.utxoStateAtTip(),
    await resolveUtxoChanges(txs, height, chain.utxos),
  ).finalize();
  const header = new Header({
    version: HEADER_VERSION,
    height,
    time,
    prevHash: tip.hash,
    txRoot: merkleRoot(txs.map((tx) => tx.wtxid)),
    utxoRoot,
    stateRoot: preview.root,
    validatorSetHash: chain.validatorsAt(height).hash,
    nextValidatorSetHash: chain.validatorsAt(height + 1).hash,
    lastCommitHash: lastCommit.hash,
    evidenceRoot: evidenceRoot(evidence),
    proposer: input.proposer,
  });
  return new Block(header, lastCommit, txs, evidence);
}

function coinbaseTx(height: number, amount: bigint, lock: Lock): Transaction {
  return new Transaction({
    version: TX_VERSION,
    inputs: [],
    outputs: [{ amount, lock }],
    lockTime: height,
    payload: null,
    witnesses: [],
  });
}

/** inputs + withdrawn - outputs - bonded over `txs`, spent coins looked up on the tip. */
async function feesOf(
  chain: Chain,
  txs: readonly Transaction[],
  height: number,
  effects: ReadonlyMap<number, { valueIn: bigint; valueOut: bigint }>,
): Promise<bigint> {
  const changes = await resolveUtxoChanges(txs, height, chain.utxos);
  let fees = 0n;
  txs.forEach((tx, i) => {
    const effect = effects.get(i) ?? { valueIn: 0n, valueOut: 0n };
    let fee = effect.valueIn - effect.valueOut;
    for (const coin of changes.spentByTx[i]!) fee += coin.amount;
    for (const output of tx.outputs) fee -= output.amount;
    if (fee > 0n) fees += fee;
  });
  return fees;
}
