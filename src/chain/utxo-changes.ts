/**
 * What a block does to the UTXO set, computed in one place: the coin record of
 * each output, the coins a block leaves behind, and the set commitment before
 * and after. The verifier, the chain (connect, rollback, genesis), the block
 * assembler and verify-chain all use these.
 */
import type { MuHash3072 } from '../crypto/index.ts';
import type { Transaction } from '../primitives/index.ts';
import { encodeCoin, outpointFromKey, outpointKey, utxoElement } from '../primitives/index.ts';
import type { SpentCoin } from './records.ts';
import type { CreatedCoin } from './utxo-set.ts';

/**
 * The coin record of output `index` of `tx`, the `txIndex`-th transaction of
 * the block at `height`. The first transaction of a block is its coinbase,
 * except at genesis, whose allocations are spendable at once.
 */
export function createdCoin(
  tx: Transaction,
  txIndex: number,
  index: number,
  height: number,
): CreatedCoin {
  const output = tx.outputs[index]!;
  return {
    key: outpointKey({ txid: tx.txid, index }),
    coin: encodeCoin({
      amount: output.amount,
      lock: output.lock,
      height,
      coinbase: txIndex === 0 && height > 0,
    }),
  };
}

/** The coins a block's `txs` leave in the UTXO set: their outputs not spent within the block. */
export function createdCoins(txs: readonly Transaction[], height: number): CreatedCoin[] {
  const spentInBlock = new Set<string>();
  for (const tx of txs) for (const input of tx.inputs) spentInBlock.add(outpointId(input.prevout));
  const created: CreatedCoin[] = [];
  txs.forEach((tx, txIndex) => {
    tx.outputs.forEach((_, index) => {
      if (spentInBlock.has(outpointId({ txid: tx.txid, index }))) return;
      created.push(createdCoin(tx, txIndex, index, height));
    });
  });
  return created;
}

function outpointId(outpoint: { txid: Uint8Array; index: number }): string {
  return `${Buffer.from(outpoint.txid).toString('hex')}:${outpoint.index}`;
}

export interface UtxoDelta {
  readonly spent: readonly SpentCoin[];
  readonly created: readonly CreatedCoin[];
}

/** The UTXO state after a block: `spent` removed from `before`, `created` added (`before` is not modified). */
export function applyUtxoChanges(before: MuHash3072, changes: UtxoDelta): MuHash3072 {
  const after = before.clone();
  for (const s of changes.spent) after.remove(utxoElement(outpointFromKey(s.key), s.coin));
  for (const c of changes.created) after.insert(utxoElement(outpointFromKey(c.key), c.coin));
  return after;
}

/** The UTXO state before a block, from the state after it and the block's changes (its undo). */
export function revertUtxoChanges(after: MuHash3072, changes: UtxoDelta): MuHash3072 {
  return applyUtxoChanges(after, { spent: changes.created, created: changes.spent });
}
