import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Level } from 'level';
import {
  CHAIN_ID,
  genesisCoins,
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { buildTransaction, type SpendableCoin } from '../client/tx-builder.ts';
import { VerificationError } from '../consensus/errors.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { COIN } from '../primitives/amount.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import { Bucket, heightKey } from '../storage/buckets.ts';
import { verifyChain } from './verify-chain.ts';

const validator = testKey(0);
const alice = testKey(1);
const genesis = testGenesis({ validator, funded: [alice] });

/** 12 blocks, each moving alice's coin to a new output (checkpoints every 5). */
async function buildChain(t: TestChain): Promise<void> {
  let [coin] = await genesisCoins(t.chain);
  for (let i = 0; i < 12; i++) {
    const tx = buildTransaction({
      chainId: CHAIN_ID,
      coins: [coin!],
      outputs: [{ amount: COIN, lock: pubkeyLock(testKey(100 + i).publicKey) }],
      changeLock: pubkeyLock(alice.publicKey),
      feeRate: 1000n,
      keys: [alice],
    });
    const fee = coin!.amount - tx.outputs.reduce((sum, o) => sum + o.amount, 0n);
    await t.produce([tx], fee);
    coin = {
      outpoint: { txid: tx.txid, index: 1 },
      amount: tx.outputs[1]!.amount,
      lock: tx.outputs[1]!.lock,
    } satisfies SpendableCoin;
  }
}

async function tamper(
  t: TestChain,
  key: Uint8Array,
  edit: (value: Uint8Array) => void,
): Promise<TestChain> {
  await t.close();
  const raw = new Level<Uint8Array, Uint8Array>(join(t.dir, 'chain'), {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  const value = (await raw.get(key))!;
  edit(value);
  await raw.put(key, value);
  await raw.close();
  return openTestChain({ genesis, validator, dir: t.dir });
}

describe('verify-chain', () => {
  let t: TestChain;
  let checker: SignatureChecker;
  before(async () => {
    t = await openTestChain({ genesis, validator });
    await buildChain(t);
    checker = new SignatureChecker({ verifier: t.verifier, cache: null });
  });
  after(async () => {
    await t.destroy();
  });

  it('replays only the blocks since the last checkpoint by default', async () => {
    const progress: number[] = [];
    const result = await verifyChain(t.chain, {
      full: false,
      scanUtxos: false,
      signatures: checker,
      onProgress: (d) => progress.push(d),
    });
    assert.equal(result.fromHeight, 10);
    assert.equal(result.toHeight, 12);
    assert.equal(result.blocksVerified, 2);
    assert.deepEqual(progress, [1, 2]);
  });

  it('replays everything from genesis with --full and scans the coin set', async () => {
    const result = await verifyChain(t.chain, { full: true, scanUtxos: true, signatures: checker });
    assert.equal(result.fromHeight, 0);
    assert.equal(result.blocksVerified, 12);
    assert.ok(result.coinsScanned !== null && result.coinsScanned > 12);
  });

  it('detects an edited coin in the stored UTXO set', async () => {
    const [, , changed] = await collectCoinKeys(t);
    t = await tamper(t, changed!, (coin) => {
      coin[0] = coin[0]! ^ 1;
    });
    checker = new SignatureChecker({ verifier: t.verifier, cache: null });
    await assert.rejects(
      verifyChain(t.chain, { full: false, scanUtxos: true, signatures: checker }),
      (e: unknown) =>
        e instanceof VerificationError &&
        e.code === 'BLOCK_CHECKPOINT_MISMATCH' &&
        /stored coins/.test(e.message),
    );
  });

  it('detects damaged undo data', async () => {
    t = await tamper(t, heightKey(Bucket.undo, 11), (undo) => {
      undo[5] = undo[5]! ^ 1;
    });
    checker = new SignatureChecker({ verifier: t.verifier, cache: null });
    await assert.rejects(
      verifyChain(t.chain, { full: false, scanUtxos: false, signatures: checker }),
      /checksum|invalid-value/,
    );
  });
});

async function collectCoinKeys(t: TestChain): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  const coins = t.chain.store.coins;
  for await (const [outpoint] of coins.entries()) keys.push(coins.key(outpoint));
  return keys;
}
