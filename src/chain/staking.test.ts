import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  CHAIN_ID,
  genesisCoins,
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import {
  firstOutput,
  produceBlock,
  STAKE_FEE,
  stakingTx,
  supplySides,
} from '../../test/support/staking-chain.ts';
import { withStaking } from '../../test/support/staking-fixture.ts';
import type { SpendableCoin } from '../client/tx-builder.ts';
import { StakingLedger, validatorIdOf } from '../consensus/index.ts';
import { DEFAULT_STAKING_PARAMS } from '../consensus/staking/params.ts';
import { COIN } from '../primitives/amount.ts';
import { StateOverlay } from '../state/index.ts';
import { validatorSetAt } from './block-verifier.ts';
import { verifyChain } from './verify-chain.ts';

const validator = testKey(1);
const alice = testKey(2);
const key1 = testKey(3);
const key2 = testKey(4);
const staking = {
  ...DEFAULT_STAKING_PARAMS,
  unbondingPeriodMs: 5_000,
  signedBlocksWindow: 4,
  downtimeJailMs: 2_000,
};
const base = testGenesis({ validator, funded: [alice] });
const genesis = withStaking(base, staking);
const GENESIS_SUPPLY = 1000n * COIN + 10n * COIN; // alice's allocation + the validator's bond

describe('staking inside the chain', () => {
  let t: TestChain;
  let coin: SpendableCoin;
  let time = genesis.time;
  const aliceId = validatorIdOf(alice.publicKey);
  const ledger = () => new StakingLedger(new StateOverlay(t.chain.state), staking);
  const keysAt = (h: number) =>
    t.chain.validatorsAt(h).validators.map((v) => Buffer.from(v.publicKey).toString('hex'));
  const hex = (k: { publicKey: Uint8Array }) => Buffer.from(k.publicKey).toString('hex');

  /** Connects a block with `txs` one second after the last, checking supply after it. */
  async function block(txs = [] as ReturnType<typeof stakingTx>[]) {
    time += 1000;
    const b = await produceBlock(t.chain, validator, txs, time);
    const { held, issued } = await supplySides(t.chain, GENESIS_SUPPLY);
    assert.equal(held, issued, `supply invariant at height ${b.height}`);
    return b;
  }

  before(async () => {
    t = await openTestChain({ genesis, validator });
    coin = (await genesisCoins(t.chain))[0]!;
  });
  after(() => t.destroy());

  it('bonds a new validator that signs from H+2', async () => {
    await block(); // 1
    const bond = stakingTx(
      CHAIN_ID,
      alice,
      coin,
      { kind: 'bond', amount: 3n * COIN, consensusKey: key1.publicKey },
      { bonded: 3n * COIN },
    );
    const b2 = await block([bond]); // 2
    assert.equal(b2.txs.length, 2);
    coin = firstOutput(bond);
    assert.equal(coin.amount, 1000n * COIN - 3n * COIN - STAKE_FEE);
    assert.equal(await ledger().bonded(aliceId), 3n * COIN);
    assert.deepEqual(keysAt(3), [hex(validator)]);
    assert.deepEqual(keysAt(4).sort(), [hex(validator), hex(key1)].sort());
    assert.equal(t.chain.validatorsAt(4).totalPower, 13n);
    await block(); // 3
    const b4 = await block(); // 4: certified by the two-member set
    assert.equal(b4.header.validatorSetHash.length, 32);
    assert.deepEqual(b4.header.validatorSetHash, t.chain.validatorsAt(4).hash);
  });

  it('jails a validator that does not sign and unjails it after the jail time', async () => {
    // key1 never signs: the window (4 blocks, 50%) is exceeded at block 8.
    for (let h = 5; h <= 8; h++) await block();
    const jail = await ledger().jail(aliceId);
    assert.notEqual(jail.jailedUntilMs, 0);
    assert.equal(await ledger().bonded(aliceId), 3n * COIN - (3n * COIN) / 100n);
    assert.equal(keysAt(9).length, 2);
    assert.deepEqual(keysAt(10), [hex(validator)]);
    // Too early: the assembler leaves the unjail out (STAKE_JAIL_NOT_EXPIRED on this tip).
    const early = stakingTx(CHAIN_ID, alice, coin, { kind: 'unjail' });
    const b9 = await block([early]);
    assert.equal(b9.txs.length, 1);
    await block(); // 10
    const unjail = stakingTx(CHAIN_ID, alice, coin, { kind: 'unjail' });
    await block([unjail]); // 11
    coin = firstOutput(unjail);
    assert.equal((await ledger().jail(aliceId)).jailedUntilMs, 0);
    assert.equal(keysAt(12).length, 1);
    assert.equal(keysAt(13).length, 2);
  });

  it('rotates the consensus key: the new key is in the set from H+2', async () => {
    const rotate = stakingTx(CHAIN_ID, alice, coin, {
      kind: 'rotateKey',
      consensusKey: key2.publicKey,
    });
    const b = await block([rotate]); // 12
    coin = firstOutput(rotate);
    assert.ok(keysAt(b.height + 1).includes(hex(key1)));
    assert.ok(keysAt(b.height + 2).includes(hex(key2)));
    assert.ok(!keysAt(b.height + 2).includes(hex(key1)));
  });

  it('unbonds, refuses an early withdrawal, and withdraws once matured', async () => {
    const unbond = stakingTx(CHAIN_ID, alice, coin, { kind: 'unbond', amount: COIN });
    const b = await block([unbond]); // 13
    coin = firstOutput(unbond);
    const bonded = await ledger().bonded(aliceId);
    const entry = await ledger().unbonding(aliceId, b.height);
    assert.equal(entry?.amount, COIN);
    const withdraw = (amount = COIN) =>
      stakingTx(
        CHAIN_ID,
        alice,
        coin,
        { kind: 'withdraw', creationHeight: b.height },
        { withdrawn: amount },
      );
    const early = await block([withdraw()]);
    assert.equal(early.txs.length, 1, 'not mature: left out');
    for (let i = 0; i < 4; i++) await block();
    // Still slashable while unbonding: a second downtime jail may have cut it.
    const owed = (await ledger().unbonding(aliceId, b.height))!.amount;
    assert.ok(owed <= COIN && owed > 0n);
    const tx = withdraw(owed);
    const done = await block([tx]);
    assert.equal(done.txs.length, 2);
    assert.equal(tx.outputs[0]!.amount, coin.amount + owed - STAKE_FEE);
    assert.equal(await ledger().unbonding(aliceId, b.height), undefined);
    assert.ok((await ledger().bonded(aliceId)) <= bonded);
  });

  it('survives a reopen, rolls back the state with the blocks, and verify-chain agrees', async () => {
    const history = [3, 4, 10, 13, 14].map((h) => keysAt(h));
    t = await t.reopen();
    // The set history is on disk: the engine can replay proposer priorities from genesis.
    assert.deepEqual(
      [3, 4, 10, 13, 14].map((h) => keysAt(h)),
      history,
    );
    const height = t.chain.tipHeight;
    const root = t.chain.state.root;
    const result = await verifyChain(t.chain, {
      full: true,
      scanUtxos: true,
      signatures: t.chain.blockContext(null).signatures,
    });
    assert.equal(result.toHeight, height);
    await t.chain.disconnectTip();
    await t.chain.disconnectTip();
    assert.equal(t.chain.state.height, height - 2);
    const parent = await t.chain.requireBlockAt(height - 2);
    assert.deepEqual(t.chain.state.root, parent.header.stateRoot);
    assert.notDeepEqual(t.chain.state.root, root);
    // The set history forgot what the rolled-back blocks scheduled: it agrees with the state.
    for (let h = height - 2; h <= height; h++) {
      assert.deepEqual(t.chain.validatorsAt(h).hash, (await validatorSetAt(t.chain.state, h)).hash);
    }
    // Above tip + 2 nothing is scheduled yet: the latest known set, not a rolled-back one.
    assert.deepEqual(t.chain.validatorsAt(height + 2).hash, t.chain.validatorsAt(height).hash);
    assert.deepEqual(
      [3, 4, 10, 13, 14].map((h) => keysAt(h)),
      history,
    );
    await verifyChain(t.chain, {
      full: false,
      scanUtxos: false,
      signatures: t.chain.blockContext(null).signatures,
    });
  });
});
