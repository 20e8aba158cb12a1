import { getPublicKey } from '../crypto/index.ts';
import type { Lock, Transaction } from '../primitives/index.ts';
import { fromHex, toHex } from '../util/index.ts';
import type { KeyPair, SpendableCoin } from './tx-builder.ts';
import type { UtxoJson } from './types.ts';

/** A key pair from a 32-byte private key (e.g. DerivedKey.privateKey or generatePrivateKey()). */
export function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  return { privateKey, publicKey: getPublicKey(privateKey) };
}

/**
 * The coins of an address's /utxos listing that a new transaction may spend:
 * not already spent by a pending transaction (that would be a conflict), and
 * no block reward before it matures.
 */
export function spendableCoins(
  items: readonly UtxoJson[],
  opts: { lock: Lock; tipHeight: number; coinbaseMaturity: number },
): SpendableCoin[] {
  return items
    .filter((c) => !c.spentInMempool)
    .filter((c) => !c.coinbase || opts.tipHeight + 1 - c.height >= opts.coinbaseMaturity)
    .map((c) => ({
      outpoint: { txid: fromHex(c.txid, 32), index: c.index },
      amount: BigInt(c.amount),
      lock: opts.lock,
    }));
}

/** What `tx` pays in fees: the coins it spends (taken from `coins`) minus its outputs. */
export function transactionFee(tx: Transaction, coins: readonly SpendableCoin[]): bigint {
  const byOutpoint = new Map(
    coins.map((c) => [`${toHex(c.outpoint.txid)}:${c.outpoint.index}`, c.amount]),
  );
  let spent = 0n;
  for (const input of tx.inputs) {
    const amount = byOutpoint.get(`${toHex(input.prevout.txid)}:${input.prevout.index}`);
    if (amount === undefined)
      throw new RangeError(
        `transactionFee: coin ${toHex(input.prevout.txid)}:${input.prevout.index} is not in coins`,
      );
    spent += amount;
  }
  return spent - tx.outputs.reduce((sum, o) => sum + o.amount, 0n);
}
