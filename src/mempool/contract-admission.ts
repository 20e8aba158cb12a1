/**
 * Contract transactions in the pool: their gas weighs like bytes (so the pool
 * orders, replaces and evicts by what a transaction pays per unit of the
 * scarcer block resource), and their contract work runs against the tip's
 * state before admission and again after blocks, since a block's calls can
 * change what a contract accepts.
 */
import { type ConsensusParams, contractGasOfTx, VerificationError } from '../consensus/index.ts';
import type { Coin, Transaction } from '../primitives/index.ts';
import { toHex } from '../util/index.ts';
import { ContractEngineError, hasContractWork } from '../vm/index.ts';
import type { MempoolEntry } from './entry.ts';
import { MempoolError } from './errors.ts';
import { PendingAdmissions } from './pending-admission.ts';
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

/**
 * How many pending contract entries one block re-checks. Each re-check is a
 * contract run of up to the entry's gas limit, so re-checking a full pool
 * after every block would cost many blocks' worth of gas; instead the oldest
 * checks go first and the rest wait for the next blocks (round robin). An
 * entry not yet re-checked is still safe: the block assembler drops a
 * transaction whose contract work fails on the block's own state.
 */
export const MAX_CONTRACT_RECHECKS_PER_BLOCK = 256;

/**
 * The pool's contract entries, with the coins they spend, re-checked after
 * blocks. `pending` maps pool key -> coins the entry spends (outpoints are
 * immutable: still true while it is pooled).
 */
export class ContractAdmissions extends PendingAdmissions<readonly Coin[]> {
  /** `tx` entered the pool under `key`, spending `spent`. */
  admitted(tx: Transaction, key: string, spent: readonly Coin[]): void {
    if (hasContractWork(tx, spent)) this.pending.set(key, spent);
  }

  /**
   * After a block: up to MAX_CONTRACT_RECHECKS_PER_BLOCK pending contract
   * entries, longest unchecked first, whose contract work no longer passes on
   * the new state (a broken rule, or a call that now fails).
   */
  async stale(): Promise<MempoolEntry[]> {
    const stale: MempoolEntry[] = [];
    let checked = 0;
    for (const [key, spent] of [...this.pending]) {
      const entry = this.entries.get(key);
      if (entry === undefined) {
        this.pending.delete(key);
        continue;
      }
      if (checked === MAX_CONTRACT_RECHECKS_PER_BLOCK) break;
      checked++;
      // Moved to the back: the next block starts with entries this one skipped.
      this.pending.delete(key);
      try {
        await checkContractAdmission(this.chain, entry.tx, spent, this.clock.now());
        this.pending.set(key, spent);
      } catch (error) {
        const failed =
          error instanceof VerificationError ||
          (error instanceof MempoolError && error.code === 'MEMPOOL_CONTRACT_FAILED');
        if (!failed) throw error;
        stale.push(entry);
      }
    }
    return stale;
  }
}
