/**
 * The certificates around a validator set change: the commit a block
 * carries (`lastCommit`, of height h-1) is checked against the set of h-1,
 * the block's own commit against the set of h. Here a new validator whose
 * consensus key sorts first joins at height 4, moving the genesis validator
 * from index 0 to index 1: checking block 4's last commit against the new
 * set would read its signature as the newcomer's and refuse a valid block.
 */
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
import { produceBlock, stakingTx } from '../../test/support/staking-chain.ts';
import { withStaking } from '../../test/support/staking-fixture.ts';
import { DEFAULT_STAKING_PARAMS } from '../consensus/staking/params.ts';
import { COIN } from '../primitives/amount.ts';
import { compareBytes } from '../util/bytes.ts';
import { validatorSetAt } from './block-verifier.ts';

const validator = testKey(1);
const alice = testKey(2);
const newcomer = testKey(7);
const base = testGenesis({ validator, funded: [alice] });
const genesis = withStaking(base, DEFAULT_STAKING_PARAMS);

describe('a validator set change under the certificates', () => {
  let t: TestChain;
  let time = genesis.time;
  const block = (txs: Parameters<typeof produceBlock>[2] = []) => {
    time += 1000;
    return produceBlock(t.chain, validator, txs, time);
  };

  before(async () => {
    t = await openTestChain({ genesis, validator });
  });
  after(() => t.destroy());

  it('checks the carried commit against the set that signed it, not the new one', async () => {
    assert.ok(compareBytes(newcomer.publicKey, validator.publicKey) < 0, 'the premise');
    const [coin] = await genesisCoins(t.chain);
    await block(); // 1
    const bond = stakingTx(
      CHAIN_ID,
      alice,
      coin!,
      { kind: 'bond', amount: 2n * COIN, consensusKey: newcomer.publicKey },
      { bonded: 2n * COIN },
    );
    assert.equal((await block([bond])).txs.length, 2); // 2: the set of 4 changes
    assert.equal(t.chain.validatorsAt(3).indexOf(validator.publicKey), 0);
    assert.equal(t.chain.validatorsAt(4).indexOf(validator.publicKey), 1);
    await block(); // 3
    const b4 = await block(); // 4: carries block 3's commit by the old set
    assert.equal(b4.lastCommit.signatures[0]?.validatorIndex, 0);
    assert.equal(t.chain.tipHeight, 4);
    await block(); // 5: carries block 4's commit by the new set
    assert.equal(t.chain.tipHeight, 5);
  });

  it('has no set beyond tip + 2: asking for one is a local fault, not an empty set', async () => {
    const tip = t.chain.tipHeight;
    assert.ok((await validatorSetAt(t.chain.state, tip + 2)).validators.length > 0);
    await assert.rejects(validatorSetAt(t.chain.state, tip + 3), RangeError);
  });
});
