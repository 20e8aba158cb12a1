import { blockSubsidy } from '../consensus/index.ts';
import type { Lock } from '../primitives/index.ts';
import {
  Block,
  CommitCertificate,
  HEADER_VERSION,
  Header,
  merkleRoot,
  Transaction,
  TX_VERSION,
} from '../primitives/index.ts';
import { resolveUtxoChanges } from './block-verifier.ts';
import type { Chain } from './chain.ts';
import { EMPTY_STATE_ROOT } from './genesis.ts';
import { applyUtxoChanges } from './utxo-changes.ts';

export interface BlockProposalInput {
  /** Mempool-ordered transactions (parents before children), already checked by the mempool. */
  readonly txs: readonly Transaction[];
  readonly fees: bigint;
  readonly proposer: Uint8Array;
  /** Where the block reward and fees go. */
  readonly rewardLock: Lock;
  /** Proposed time; raised to parent time + 1 ms if the clock is behind. */
  readonly time: number;
}

/**
 * Builds the next block on the tip: coinbase paying subsidy + fees, the
 * parent's commit certificate, Merkle root and the UTXO commitment after the
 * block. The result still goes through full validation at connect.
 */
export async function assembleBlock(chain: Chain, input: BlockProposalInput): Promise<Block> {
  const tip = chain.tip;
  const height = tip.height + 1;
  const coinbase = new Transaction({
    version: TX_VERSION,
    inputs: [],
    outputs: [{ amount: blockSubsidy(chain.params, height) + input.fees, lock: input.rewardLock }],
    lockTime: height,
    payload: null,
    witnesses: [],
  });
  const txs = [coinbase, ...input.txs];
  const lastCommit =
    height === 1
      ? CommitCertificate.empty(chain.genesisHash)
      : await chain.requireCommitAt(tip.height);
  const changes = await resolveUtxoChanges(txs, height, chain.utxos);
  const utxoRoot = applyUtxoChanges(chain.utxoStateAtTip(), changes).finalize();
  const header = new Header({
    version: HEADER_VERSION,
    height,
    time: Math.max(input.time, tip.header.time + 1),
    prevHash: tip.hash,
    txRoot: merkleRoot(txs.map((tx) => tx.wtxid)),
    utxoRoot,
    stateRoot: EMPTY_STATE_ROOT,
    validatorSetHash: chain.validators.hash,
    lastCommitHash: lastCommit.hash,
    proposer: input.proposer,
  });
  return new Block(header, lastCommit, txs);
}
