/**
 * Contract transactions in the pool: their gas weighs like bytes (so the pool
 * orders, replaces and evicts by what a transaction pays per unit of the
 * scarcer block resource), and their contract work runs against the tip's
 * state before admission.
 */
import { type ConsensusParams, contractGasOfTx } from '../consensus/index.ts';
import type { Coin, Transaction } from '../primitives/index.ts';
import { toHex } from '../util/index.ts';
import { ContractEngineError, hasContractWork } from '../vm/index.ts';
import { MempoolError } from './errors.ts';
import type { MempoolChainView } from './types.ts';

/**
 * The size the pool counts for `tx`: its bytes, or the bytes its reserved gas
 * would take of a block if gas were bytes (gas x maxBlockBytes /
 * blockGasLimit), whichever is larger. A block template filled to
 * maxBlockBytes of these sizes is then within both block limits.
 */
export function virtualSize(
  tx: Transaction,
  spent: readonly Coin[],
  params: ConsensusParams,
): number {
  if (!hasContractWork(tx, spent)) return tx.size;
  const { gasReserved } = contractGasOfTx(tx, spent, params);
  const { maxBlockBytes } = params;
  const { blockGasLimit } = params.contracts;
  const gasBytes = Number(
    (BigInt(gasReserved) * BigInt(maxBlockBytes) + BigInt(blockGasLimit) - 1n) /
      BigInt(blockGasLimit),
  );
  return Math.max(tx.size, gasBytes);
}

/**
 * Runs the contract work of `tx` on a throw-away fork of the tip's state.
 * A broken contract rule throws its VerificationError; a call that would fail
 * (throw, run out of gas) is declined as MEMPOOL_CONTRACT_FAILED, so its
 * sender learns why before paying for it. The gas cap is the transaction's
 * own gas limit (at most VmLimits.maxCallGas per call).
 */
export async function checkContractAdmission(
  chain: MempoolChainView,
  tx: Transaction,
  spent: readonly Coin[],
  timeMs: number,
): Promise<void> {
  if (!hasContractWork(tx, spent)) return;
  if (chain.checkContractTx === undefined) {
    throw new MempoolError('MEMPOOL_NONSTANDARD', 'this pool has no state view for contracts');
  }
  let result: Awaited<ReturnType<typeof chain.checkContractTx>>;
  try {
    result = await chain.checkContractTx(tx, spent, timeMs);
  } catch (error) {
    // A safety net fired: this machine cannot tell, so the pool declines
    // without blaming the sender (a block holding it would be retried, not refused).
    if (error instanceof ContractEngineError) {
      throw new MempoolError('MEMPOOL_CONTRACT_FAILED', error.message, { txid: toHex(tx.txid) });
    }
    throw error;
  }
  const outcome = result?.outcome;
  if (outcome !== undefined && !outcome.ok) {
    throw new MempoolError(
      'MEMPOOL_CONTRACT_FAILED',
      `the contract call fails on the tip's state: ${outcome.code}: ${outcome.reason}`,
      { txid: toHex(tx.txid), contractCode: outcome.code, gasUsed: result?.gasUsed },
    );
  }
}
