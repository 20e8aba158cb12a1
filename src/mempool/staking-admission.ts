/**
 * Staking transactions in the pool: at most one pending per operator (the
 * key that signs the first input), each checked against the tip's state on
 * admission and again after every block, since a block can jail or slash the
 * validator it acts on.
 */
import type { TxStakingEffect } from '../consensus/index.ts';
import { isStakingPayloadType, VerificationError } from '../consensus/index.ts';
import type { Transaction } from '../primitives/index.ts';
import { toHex } from '../util/index.ts';
import type { MempoolEntry } from './entry.ts';
import { MempoolError } from './errors.ts';
import { PendingAdmissions } from './pending-admission.ts';

/** Hex of the operator key of a staking transaction (its first witness), or null if it is none. */
function stakingOperator(tx: Transaction): string | null {
  if (tx.payload === null || !isStakingPayloadType(tx.payload.type)) return null;
  const witness = tx.witnesses[0];
  return witness === undefined ? null : toHex(witness.publicKey);
}

/** `pending` maps operator key (hex) -> pool key of its pending staking transaction. */
export class StakingAdmissions extends PendingAdmissions<string> {
  /**
   * The staking effect of `tx` on the tip's state (undefined for a transaction
   * that is not a staking one), or the error that keeps it out.
   */
  async check(tx: Transaction): Promise<TxStakingEffect | undefined> {
    const operator = stakingOperator(tx);
    if (operator === null) return undefined;
    const pending = this.pending.get(operator);
    if (pending !== undefined) {
      const entry = this.entries.get(pending);
      if (entry !== undefined) {
        throw new MempoolError(
          'MEMPOOL_STAKING_PENDING',
          'the operator already has a staking transaction in the pool; send the next one after it confirms',
          { txid: toHex(tx.txid), pending: toHex(entry.txid) },
        );
      }
      this.pending.delete(operator);
    }
    if (this.chain.checkStakingTx === undefined) {
      throw new MempoolError('MEMPOOL_NONSTANDARD', 'this pool has no state view for staking');
    }
    return this.chain.checkStakingTx(tx, this.clock.now());
  }

  /** `tx` entered the pool under `key`. */
  admitted(tx: Transaction, key: string): void {
    const operator = stakingOperator(tx);
    if (operator !== null) this.pending.set(operator, key);
  }

  /** After a block: the pending staking entries that no longer pass on the new state. */
  async stale(): Promise<MempoolEntry[]> {
    const stale: MempoolEntry[] = [];
    for (const [operator, key] of [...this.pending]) {
      const entry = this.entries.get(key);
      if (entry === undefined) {
        this.pending.delete(operator);
        continue;
      }
      try {
        await this.chain.checkStakingTx?.(entry.tx, this.clock.now());
      } catch (error) {
        if (!(error instanceof VerificationError)) throw error;
        stale.push(entry);
        this.pending.delete(operator);
      }
    }
    return stale;
  }
}
