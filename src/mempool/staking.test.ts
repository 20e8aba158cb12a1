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
  payloadTx,
  produceBlock,
  stakingTx,
} from '../../test/support/staking-chain.ts';
import { withStaking } from '../../test/support/staking-fixture.ts';
import type { SpendableCoin } from '../client/tx-builder.ts';
import { VerificationError } from '../consensus/index.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { DEFAULT_STAKING_PARAMS } from '../consensus/staking/params.ts';
import { encodeStakingPayload } from '../consensus/staking/payload.ts';
import { SignatureCache } from '../crypto/sig-cache.ts';
import { COIN } from '../primitives/amount.ts';
import { MempoolError } from './errors.ts';
import { Mempool } from './mempool.ts';

const validator = testKey(1);
const alice = testKey(2);
const bob = testKey(5);
const key1 = testKey(3);
const key2 = testKey(4);
const base = testGenesis({ validator, funded: [alice, bob] });
const genesis = withStaking(base, DEFAULT_STAKING_PARAMS);

const code = (expected: string) => (error: unknown) => {
  assert.ok(error instanceof VerificationError || error instanceof MempoolError, String(error));
  assert.equal(error.code, expected);
  return true;
};

describe('mempool admission of staking transactions', () => {
  let t: TestChain;
  let mempool: Mempool;
  let aliceCoin: SpendableCoin;
  let bobCoin: SpendableCoin;
  let time = genesis.time;

  before(async () => {
    t = await openTestChain({ genesis, validator });
    const coins = await genesisCoins(t.chain);
    aliceCoin = coins[0]!;
    bobCoin = coins[1]!;
    const signatures = new SignatureChecker({
      verifier: t.verifier,
      cache: new SignatureCache({ maxEntries: 1000 }),
    });
    mempool = new Mempool(
      {},
      { params: t.chain.params, chainIdHash: t.chain.chainIdHash, chain: t.chain, signatures },
    );
  });
  after(() => t.destroy());

  it('refuses a staking transaction that breaks a rule on the tip state, with its STAKE_* code', async () => {
    const unbond = stakingTx(CHAIN_ID, alice, aliceCoin!, { kind: 'unbond', amount: COIN });
    await assert.rejects(mempool.add(unbond), code('STAKE_UNKNOWN_VALIDATOR'));
    const small = stakingTx(
      CHAIN_ID,
      alice,
      aliceCoin!,
      { kind: 'bond', amount: COIN / 2n, consensusKey: key1.publicKey },
      { bonded: COIN / 2n },
    );
    await assert.rejects(mempool.add(small), code('STAKE_BELOW_MIN_BOND'));
    const taken = stakingTx(
      CHAIN_ID,
      alice,
      aliceCoin!,
      { kind: 'bond', amount: COIN, consensusKey: validator.publicKey },
      { bonded: COIN },
    );
    await assert.rejects(mempool.add(taken), code('STAKE_CONSENSUS_KEY_IN_USE'));
    assert.equal(mempool.size, 0);
  });

  it('admits a bond with its fee net of the bonded amount, one per operator at a time', async () => {
    const bond = stakingTx(
      CHAIN_ID,
      alice,
      aliceCoin!,
      { kind: 'bond', amount: 2n * COIN, consensusKey: key1.publicKey },
      { bonded: 2n * COIN },
    );
    const result = await mempool.add(bond);
    assert.equal(result.status, 'accepted');
    assert.equal(result.status === 'accepted' && result.fee, 10_000n);
    const second = stakingTx(CHAIN_ID, alice, firstOutput(bond), { kind: 'unbond', amount: COIN });
    await assert.rejects(mempool.add(second), code('MEMPOOL_STAKING_PENDING'));
    // A malformed payload is refused by the stateless checks, before the
    // one-pending-per-operator rule: it costs the sender the full penalty.
    const unbond = encodeStakingPayload({ kind: 'unbond', amount: COIN });
    const longer = { type: unbond.type, data: Uint8Array.of(...unbond.data, 0) };
    const malformed = payloadTx(CHAIN_ID, alice, firstOutput(bond), longer);
    await assert.rejects(mempool.add(malformed, 'peer'), (error: unknown) => {
      assert.ok(error instanceof VerificationError, String(error));
      assert.equal(error.code, 'STAKE_PAYLOAD_MALFORMED');
      assert.equal(error.penalty, 100);
      return true;
    });
    assert.equal(mempool.size, 1);
    assert.equal(mempool.hasOrphan(malformed.txid), false);
    // Another operator bonding the same consensus key passes alone; the block keeps the first.
    const rival = stakingTx(
      CHAIN_ID,
      bob,
      bobCoin!,
      { kind: 'bond', amount: 2n * COIN, consensusKey: key1.publicKey },
      { bonded: 2n * COIN },
    );
    assert.equal((await mempool.add(rival)).status, 'accepted');

    const template = mempool.blockTemplate({ maxBytes: 1 << 20, maxTxs: 100 });
    time += 1000;
    const block = await produceBlock(t.chain, validator, template.txs, time);
    assert.equal(block.txs.length, 2, 'the rival bond is left out of the block');
    const removal = await mempool.removeForBlock(block);
    assert.equal(removal.confirmed, 1);
    assert.equal(mempool.size, 0, 'the rival no longer passes on the new state and is dropped');
    aliceCoin = firstOutput(bond);
  });

  it('admits the operator’s next staking transaction once the first confirmed', async () => {
    const unbond = stakingTx(CHAIN_ID, alice, aliceCoin!, { kind: 'unbond', amount: COIN });
    assert.equal((await mempool.add(unbond)).status, 'accepted');
    const tooMuch = stakingTx(CHAIN_ID, bob, bobCoin!, {
      kind: 'rotateKey',
      consensusKey: key2.publicKey,
    });
    await assert.rejects(mempool.add(tooMuch), code('STAKE_UNKNOWN_VALIDATOR'));
  });
});
