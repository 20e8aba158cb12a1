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
import { buildTransaction } from '../client/tx-builder.ts';
import { VerificationError } from '../consensus/errors.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { ParallelVerifier } from '../crypto/verify-pool.ts';
import { silentLogger } from '../logger/index.ts';
import { COIN } from '../primitives/amount.ts';
import { Block } from '../primitives/block.ts';
import { decodeCoin } from '../primitives/coin.ts';
import { CommitCertificate } from '../primitives/commit.ts';
import { Header } from '../primitives/header.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import { outpointKey } from '../primitives/outpoint.ts';
import { metaKey } from '../storage/buckets.ts';
import { Database } from '../storage/db.ts';
import { DatabaseError } from '../storage/errors.ts';
import { bytesEqual } from '../util/bytes.ts';
import { assembleBlock } from './block-assembler.ts';
import { Chain } from './chain.ts';

const validator = testKey(0);
const alice = testKey(1);
const bob = testKey(2);
const genesis = testGenesis({ validator, funded: [alice, bob] });

function rejects(code: string) {
  return (error: unknown) => {
    assert.ok(
      error instanceof VerificationError,
      `expected VerificationError, got ${String(error)}`,
    );
    assert.equal(error.code, code, error.message);
    return true;
  };
}

function withHeader(
  block: Block,
  changes: Partial<ConstructorParameters<typeof Header>[0]>,
): Block {
  return new Block(new Header({ ...block.header, ...changes }), block.lastCommit, block.txs);
}

async function nextBlock(
  t: TestChain,
  txs = [] as Parameters<typeof assembleBlock>[1]['txs'],
  fees = 0n,
) {
  return assembleBlock(t.chain, {
    txs,
    fees,
    proposer: validator.publicKey,
    rewardLock: pubkeyLock(validator.publicKey),
    time: t.chain.tip.header.time + 1000,
  });
}

describe('chain: connect, spend and reject', () => {
  let t: TestChain;
  before(async () => {
    t = await openTestChain({ genesis, validator });
  });
  after(async () => {
    await t.destroy();
  });

  it('starts at genesis with the allocations spendable', async () => {
    assert.equal(t.chain.tipHeight, 0);
    const coins = await genesisCoins(t.chain);
    const stored = await t.chain.getCoins(coins.map((c) => c.outpoint));
    assert.deepEqual(
      stored.map((c) => c?.amount),
      [1000n * COIN, 1000n * COIN],
    );
    assert.equal(stored[0]?.coinbase, false);
  });

  it('connects blocks and pays the subsidy to the validator', async () => {
    const block = await t.produce();
    assert.equal(t.chain.tipHeight, 1);
    const [coinbaseCoin] = await t.chain.getCoins([{ txid: block.txs[0]!.txid, index: 0 }]);
    assert.equal(coinbaseCoin?.amount, 50n * COIN);
    assert.equal(coinbaseCoin?.coinbase, true);
    assert.ok(bytesEqual((await t.chain.getCommitAt(1))!.blockHash, block.hash));
  });

  it('spends a coin: inputs removed, outputs added, fee to the validator', async () => {
    const [aliceCoin] = await genesisCoins(t.chain);
    const tx = buildTransaction({
      chainId: CHAIN_ID,
      coins: [aliceCoin!],
      outputs: [{ amount: 10n * COIN, lock: pubkeyLock(bob.publicKey) }],
      changeLock: pubkeyLock(alice.publicKey),
      feeRate: 1000n,
      keys: [alice],
    });
    const fee = 1000n * COIN - 10n * COIN - tx.outputs[1]!.amount;
    assert.ok(fee > 0n);
    const block = await t.produce([tx], fee);
    const [spent, toBob, change] = await t.chain.getCoins([
      aliceCoin!.outpoint,
      { txid: tx.txid, index: 0 },
      { txid: tx.txid, index: 1 },
    ]);
    assert.equal(spent, undefined);
    assert.equal(toBob?.amount, 10n * COIN);
    assert.equal(change?.amount, 1000n * COIN - 10n * COIN - fee);
    const [reward] = await t.chain.getCoins([{ txid: block.txs[0]!.txid, index: 0 }]);
    assert.equal(reward?.amount, 50n * COIN + fee);
    assert.deepEqual(await t.chain.getTxLocation(tx.txid), { height: 2, index: 1 });

    await assert.rejects(t.produce([tx], 0n), rejects('TX_INPUT_MISSING'));

    const bobLock = pubkeyLock(bob.publicKey).hash;
    const bobCoins = await t.chain.addressCoins(bobLock, { limit: 10 });
    assert.deepEqual(
      bobCoins.map((c) => c.coin.amount).sort((a, b) => (a < b ? -1 : 1)),
      [10n * COIN, 1000n * COIN],
      'genesis allocation and the payment',
    );
    const firstPage = await t.chain.addressCoins(bobLock, { limit: 1 });
    const secondPage = await t.chain.addressCoins(bobLock, {
      limit: 1,
      after: outpointKey(firstPage[0]!.outpoint),
    });
    assert.equal(secondPage.length, 1);
    assert.notDeepEqual(secondPage[0]!.outpoint, firstPage[0]!.outpoint);
    const aliceHistory = await t.chain.addressHistory(pubkeyLock(alice.publicKey).hash, {
      limit: 10,
    });
    assert.deepEqual(
      aliceHistory.map((h) => h.height),
      [2, 0],
      'alice spent at height 2 and was funded at genesis',
    );
    assert.ok(bytesEqual(aliceHistory[0]!.txid, tx.txid));
    assert.equal(
      (
        await t.chain.addressHistory(pubkeyLock(alice.publicKey).hash, {
          limit: 10,
          beforeHeight: 2,
        })
      ).length,
      1,
    );
  });

  it('rejects a bad signature, a wrong key and an immature coinbase spend', async () => {
    const [, bobCoin] = await genesisCoins(t.chain);
    const request = {
      chainId: CHAIN_ID,
      coins: [bobCoin!],
      outputs: [{ amount: COIN, lock: pubkeyLock(alice.publicKey) }],
      changeLock: pubkeyLock(bob.publicKey),
      feeRate: 1000n,
      keys: [bob],
    };
    const tx = buildTransaction(request);
    const other = buildTransaction({
      ...request,
      outputs: [{ amount: 2n * COIN, lock: pubkeyLock(alice.publicKey) }],
    });
    const forged = tx.withWitnesses([
      { publicKey: bob.publicKey, signature: other.witnesses[0]!.signature },
    ]);
    await assert.rejects(
      t.chain.connectBlock(await nextBlock(t, [forged]), t.commitFor(await nextBlock(t, [forged]))),
      rejects('TX_BAD_SIGNATURE'),
    );

    const wrongKey = tx.withWitnesses([
      { publicKey: alice.publicKey, signature: tx.witnesses[0]!.signature },
    ]);
    const b2 = await nextBlock(t, [wrongKey]);
    await assert.rejects(t.chain.connectBlock(b2, t.commitFor(b2)), rejects('TX_WRONG_KEY'));

    const block1 = await t.chain.requireBlockAt(t.chain.tipHeight);
    const coinbase = block1.txs[0]!;
    const immature = buildTransaction({
      chainId: CHAIN_ID,
      coins: [
        {
          outpoint: { txid: coinbase.txid, index: 0 },
          amount: coinbase.outputs[0]!.amount,
          lock: coinbase.outputs[0]!.lock,
        },
      ],
      outputs: [{ amount: COIN, lock: pubkeyLock(alice.publicKey) }],
      changeLock: pubkeyLock(validator.publicKey),
      feeRate: 1000n,
      keys: [validator],
    });
    const b3 = await nextBlock(t, [immature]);
    await assert.rejects(t.chain.connectBlock(b3, t.commitFor(b3)), rejects('TX_IMMATURE_SPEND'));
  });

  it('rejects inflation, a wrong UTXO commitment, a wrong parent and a forged commit', async () => {
    const greedy = await nextBlock(t, [], 1n);
    await assert.rejects(
      t.chain.connectBlock(greedy, t.commitFor(greedy)),
      rejects('BLOCK_COINBASE_TOO_LARGE'),
    );

    const good = await nextBlock(t);
    const badRoot = withHeader(good, { utxoRoot: new Uint8Array(32).fill(7) });
    await assert.rejects(
      t.chain.connectBlock(badRoot, t.commitFor(badRoot)),
      rejects('BLOCK_BAD_UTXO_ROOT'),
    );

    const badPrev = withHeader(good, { prevHash: new Uint8Array(32) });
    await assert.rejects(
      t.chain.connectBlock(badPrev, t.commitFor(badPrev)),
      rejects('BLOCK_BAD_PREV'),
    );

    const commit = t.commitFor(good);
    const forged = new CommitCertificate({
      ...commit,
      signatures: [{ validatorIndex: 0, signature: new Uint8Array(64).fill(1) }],
    });
    await assert.rejects(t.chain.connectBlock(good, forged), rejects('BLOCK_BAD_COMMIT'));

    assert.equal(t.chain.tipHeight, 2, 'no rejected block changed the tip');
  });

  it('survives reopening and rolls back with undo data', async () => {
    for (let i = 0; i < 4; i++) await t.produce();
    const tipBefore = t.chain.tip;
    const rootAt2 = (await t.chain.requireBlockAt(2)).header.utxoRoot;
    t = await t.reopen();
    assert.equal(t.chain.tipHeight, tipBefore.height);
    assert.ok(bytesEqual(t.chain.tip.hash, tipBefore.hash));

    const checkpoints = [];
    for await (const cp of t.chain.checkpoints()) checkpoints.push(cp.height);
    assert.deepEqual(checkpoints, [5, 0]);

    while (t.chain.tipHeight > 2) await t.chain.disconnectTip();
    assert.ok(bytesEqual(t.chain.utxoStateAtTip().finalize(), rootAt2));
    const [aliceCoin] = await genesisCoins(t.chain);
    assert.equal(
      (await t.chain.getCoins([aliceCoin!.outpoint]))[0],
      undefined,
      'block 2 spend still applied',
    );
    await t.chain.disconnectTip();
    await t.chain.disconnectTip();
    const restored = await t.chain.getCoins([aliceCoin!.outpoint]);
    assert.equal(restored[0]?.amount, 1000n * COIN);
    assert.equal(
      (await t.chain.addressCoins(pubkeyLock(bob.publicKey).hash, { limit: 10 })).length,
      1,
      'payment to bob undone',
    );
    assert.deepEqual(
      (await t.chain.addressHistory(pubkeyLock(alice.publicKey).hash, { limit: 10 })).map(
        (h) => h.height,
      ),
      [0],
    );
    t = await t.reopen();
    assert.equal(t.chain.tipHeight, 0);
  });
});

describe('chain: damaged databases', () => {
  it('refuses a second opener with DB_LOCKED', async () => {
    const t = await openTestChain({ genesis, validator });
    await assert.rejects(
      Database.open({ path: join(t.dir, 'chain'), syncWrites: false }),
      (e: unknown) => e instanceof DatabaseError && e.code === 'DB_LOCKED',
    );
    await t.destroy();
  });

  it('reports a damaged tip record as DB_CORRUPT', async () => {
    const t = await openTestChain({ genesis, validator });
    await t.produce();
    await t.close();
    const raw = new Level<Uint8Array, Uint8Array>(join(t.dir, 'chain'), {
      keyEncoding: 'view',
      valueEncoding: 'view',
    });
    const tip = (await raw.get(metaKey('tip')))!;
    tip[10] = tip[10]! ^ 0xff;
    await raw.put(metaKey('tip'), tip);
    await raw.close();
    const db = await Database.open({ path: join(t.dir, 'chain'), syncWrites: false });
    const verifier = await ParallelVerifier.init({ workers: 0 });
    await assert.rejects(
      Chain.init(
        { utxoCacheBytes: 1 << 20 },
        {
          db,
          genesis,
          signatures: new SignatureChecker({ verifier, cache: null }),
          logger: silentLogger(),
        },
      ),
      (e: unknown) =>
        e instanceof DatabaseError &&
        e.code === 'DB_CORRUPT' &&
        /tip record is damaged/.test(e.message),
    );
    await db.close();
    await verifier.close();
  });

  it('refuses a database of another chain', async () => {
    const t = await openTestChain({ genesis, validator });
    await t.close();
    const other = testGenesis({ validator, funded: [bob] });
    await assert.rejects(
      openTestChain({ genesis: other, validator, dir: t.dir }),
      /belongs to another chain/,
    );
  });

  it('decodes stored coins strictly', () => {
    assert.throws(() => decodeCoin(new Uint8Array(45)));
  });
});
