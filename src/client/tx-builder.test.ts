import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { accountPath, deriveKey, mnemonicToSeed } from '../crypto/hd-keys.ts';
import { COIN } from '../primitives/amount.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import {
  buildTransaction,
  dustLimit,
  feeForSize,
  type SpendableCoin,
  TxBuildError,
} from './tx-builder.ts';
import { transactionFee } from './wallet.ts';

const seed = mnemonicToSeed(
  'abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about',
);
const alice = deriveKey(seed, accountPath(1, 0, 0));
const bob = deriveKey(seed, accountPath(1, 0, 1));
const aliceLock = pubkeyLock(alice.publicKey);

function coin(index: number, amount: bigint): SpendableCoin {
  return { outpoint: { txid: new Uint8Array(32).fill(index + 1), index }, amount, lock: aliceLock };
}

function pay(amount: bigint, coins: SpendableCoin[], feeRate = 1000n) {
  return buildTransaction({
    chainId: 'test',
    coins,
    outputs: [{ amount, lock: pubkeyLock(bob.publicKey) }],
    changeLock: aliceLock,
    feeRate,
    keys: [alice],
  });
}

describe('buildTransaction', () => {
  test('the dust limit is three times the fee to spend an input, at no less than the relay minimum', () => {
    const limit = dustLimit(1000n);
    assert.ok(limit > 0n);
    assert.equal(dustLimit(0n), limit, 'a zero fee rate does not make everything spendable');
    assert.equal(dustLimit(5000n) > limit, true);
    assert.equal(limit % 3n, 0n);
  });

  test('refuses a dust payment before signing anything', () => {
    const limit = dustLimit(1000n);
    assert.throws(
      () => pay(limit - 1n, [coin(0, COIN)]),
      (error: unknown) => error instanceof TxBuildError && error.code === 'DUST_OUTPUT',
    );
    assert.equal(pay(limit, [coin(0, COIN)]).outputs[0]!.amount, limit);
  });

  test('leaves dust change to the fee instead of creating an unspendable coin', () => {
    const limit = dustLimit(1000n);
    const exact = pay(COIN, [coin(0, 2n * COIN)]);
    const fee = transactionFee(exact, [coin(0, 2n * COIN)]);
    // A coin a little above amount + fee: change would be dust.
    const tight = [coin(1, COIN + fee + limit - 1n)];
    const tx = pay(COIN, tight);
    assert.equal(tx.outputs.length, 1);
    assert.equal(transactionFee(tx, tight), fee + limit - 1n);
  });

  test('insufficient funds are reported in coins, with the fee', () => {
    assert.throws(
      () => pay(3n * COIN, [coin(0, COIN), coin(1, COIN)]),
      (error: unknown) =>
        error instanceof TxBuildError &&
        error.code === 'INSUFFICIENT_FUNDS' &&
        /^insufficient funds: 2 coins available, 3 coins plus a fee of 0\.00000\d+ needed$/.test(
          error.message,
        ) &&
        error.details['available'] === (2n * COIN).toString(),
    );
  });

  test('the fee paid is the fee rate on the signed size, rounded up', () => {
    const coins = [coin(0, 5n * COIN)];
    const tx = pay(COIN, coins, 2500n);
    assert.equal(transactionFee(tx, coins), feeForSize(tx.size, 2500n));
  });
});
