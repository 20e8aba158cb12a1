import {
  type Coin,
  type Lock,
  LockType,
  PUBKEY_SIZE,
  type Transaction,
  type Witness,
} from '../../primitives/index.ts';
import { toHex } from '../../util/index.ts';
import type { ContractValue } from '../values.ts';

/**
 * A witness of all zeros signs nothing: it stands in for a contract-locked
 * input that no key signs (every input carries a witness slot).
 */
export function isEmptyWitness(witness: Witness): boolean {
  return witness.publicKey.every((b) => b === 0) && witness.signature.every((b) => b === 0);
}

export const EMPTY_WITNESS: Witness = {
  publicKey: new Uint8Array(PUBKEY_SIZE),
  signature: new Uint8Array(64),
};

/**
 * The keys that signed `tx`: every non-empty witness's key, in input order,
 * without repeats. The chain verifies each of these signatures over the
 * signature hash before any contract runs (pubkey-locked inputs already; a
 * contract-locked input's non-empty witness just the same), so a contract
 * checks who signed, never a signature.
 */
export function txSigners(tx: Transaction): string[] {
  const out: string[] = [];
  for (const witness of tx.witnesses) {
    if (isEmptyWitness(witness)) continue;
    const key = toHex(witness.publicKey);
    if (!out.includes(key)) out.push(key);
  }
  return out;
}

function lockValue(lock: Lock): ContractValue {
  return {
    type: lock.type === LockType.contract ? 'contract' : 'pubkey',
    hash: toHex(lock.hash),
  };
}

/** `ctx.tx` of a spend rule (docs/contracts.md): plain data, amounts as bigints. */
export function spendContext(
  tx: Transaction,
  spent: readonly Coin[],
  inputIndex: number,
): ContractValue {
  return {
    txid: toHex(tx.txid),
    inputIndex,
    inputs: tx.inputs.map((input, i) => ({
      txid: toHex(input.prevout.txid),
      vout: input.prevout.index,
      amount: spent[i]!.amount,
      lock: lockValue(spent[i]!.lock),
    })),
    outputs: tx.outputs.map((o) => ({ amount: o.amount, lock: lockValue(o.lock) })),
    lockTime: tx.lockTime,
    signers: txSigners(tx),
  };
}
