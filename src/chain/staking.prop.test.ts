import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  CHAIN_ID,
  genesisCoins,
  openTestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import {
  firstOutput,
  produceBlock,
  stakingTx,
  supplySides,
} from '../../test/support/staking-chain.ts';
import { withStaking } from '../../test/support/staking-fixture.ts';
import type { SpendableCoin } from '../client/tx-builder.ts';
import { readTotals, StakingLedger, validatorIdOf } from '../consensus/index.ts';
import { DEFAULT_STAKING_PARAMS } from '../consensus/staking/params.ts';
import { ValidatorSet } from '../consensus/validator-set.ts';
import { COIN } from '../primitives/amount.ts';
import { StateOverlay } from '../state/index.ts';
import { bytesEqual } from '../util/bytes.ts';
import { verifyChain } from './verify-chain.ts';

const validator = testKey(10);
const operators = [testKey(11), testKey(12)];
const consensusKeys = [0, 1, 2, 3, 4, 5].map((i) => testKey(20 + i));
const staking = {
  ...DEFAULT_STAKING_PARAMS,
  unbondingPeriodMs: 3_000,
  signedBlocksWindow: 4,
  downtimeJailMs: 2_000,
};
const base = testGenesis({ validator, funded: operators });
// The test signs every block with the genesis validator alone: it keeps > 2/3 of the power.
const genesis = {
  ...withStaking(base, staking),
  validators: new ValidatorSet([{ publicKey: validator.publicKey, power: 1000n }]),
};
const GENESIS_SUPPLY = 2n * 1000n * COIN + 1000n * COIN;

type Action =
  | { t: 'none' }
  | { t: 'bond'; op: number; coins: number; key: number }
  | { t: 'unbond'; op: number; coins: number }
  | { t: 'withdraw'; op: number; back: number }
  | { t: 'rotate'; op: number; key: number }
  | { t: 'unjail'; op: number };

const op = fc.nat({ max: operators.length - 1 });
const action: fc.Arbitrary<Action> = fc.oneof(
  fc.constant({ t: 'none' as const }),
  fc.record({
    t: fc.constant('bond' as const),
    op,
    coins: fc.integer({ min: 1, max: 4 }),
    key: fc.nat({ max: 5 }),
  }),
  fc.record({ t: fc.constant('unbond' as const), op, coins: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ t: fc.constant('withdraw' as const), op, back: fc.nat({ max: 8 }) }),
  fc.record({ t: fc.constant('rotate' as const), op, key: fc.nat({ max: 5 }) }),
  fc.record({ t: fc.constant('unjail' as const), op }),
);

describe('supply invariant over connected blocks', () => {
  it('coins + bonded + unbonding = genesis supply + rewards - slashed at every height, and verify-chain agrees', async () => {
    const included = new Set<string>();
    await fc.assert(
      fc.asyncProperty(fc.array(action, { minLength: 6, maxLength: 14 }), async (actions) => {
        const t = await openTestChain({ genesis, validator });
        try {
          const coins: SpendableCoin[] = (await genesisCoins(t.chain)).slice(0, operators.length);
          let time = genesis.time;
          for (const a of actions) {
            const tx = await txFor(a, coins, t.chain);
            time += 1000;
            const block = await produceBlock(t.chain, validator, tx === null ? [] : [tx], time);
            if (tx !== null && block.txs.some((b) => bytesEqual(b.txid, tx.txid))) {
              coins[(a as { op: number }).op] = firstOutput(tx);
              included.add(a.t);
            }
            const { held, issued } = await supplySides(t.chain, GENESIS_SUPPLY);
            assert.equal(held, issued, `supply at height ${block.height}`);
          }
          const totals = await readTotals(t.chain.state);
          let bonded = 0n;
          const ledger = new StakingLedger(new StateOverlay(t.chain.state), staking);
          for (const k of [validator, ...operators])
            bonded += await ledger.bonded(validatorIdOf(k.publicKey));
          assert.equal(totals.bonded, bonded, 'totals equal the sum of the stake records');
          await verifyChain(t.chain, {
            full: true,
            scanUtxos: true,
            signatures: t.chain.blockContext(null).signatures,
          });
        } finally {
          await t.destroy();
        }
      }),
      { numRuns: 10, seed: 8 },
    );
    // The runs reached the rules, not only the assembler's refusals.
    for (const kind of ['bond', 'unbond']) assert.ok(included.has(kind), `no ${kind} included`);
  });
});

/** The transaction for `a` on the tip, or null; the assembler leaves it out if it breaks a rule now. */
async function txFor(
  a: Action,
  coins: SpendableCoin[],
  chain: Awaited<ReturnType<typeof openTestChain>>['chain'],
) {
  if (a.t === 'none') return null;
  const operator = operators[a.op]!;
  const coin = coins[a.op]!;
  switch (a.t) {
    case 'bond': {
      const amount = BigInt(a.coins) * COIN;
      const key = consensusKeys[a.key]!.publicKey;
      return stakingTx(
        CHAIN_ID,
        operator,
        coin,
        { kind: 'bond', amount, consensusKey: key },
        { bonded: amount },
      );
    }
    case 'unbond':
      return stakingTx(CHAIN_ID, operator, coin, {
        kind: 'unbond',
        amount: BigInt(a.coins) * COIN,
      });
    case 'withdraw': {
      const creationHeight = Math.max(0, chain.tipHeight - a.back);
      const ledger = new StakingLedger(new StateOverlay(chain.state), staking);
      const entry = await ledger.unbonding(validatorIdOf(operator.publicKey), creationHeight);
      const withdrawn = entry?.amount ?? COIN;
      return stakingTx(
        CHAIN_ID,
        operator,
        coin,
        { kind: 'withdraw', creationHeight },
        { withdrawn },
      );
    }
    case 'rotate':
      return stakingTx(CHAIN_ID, operator, coin, {
        kind: 'rotateKey',
        consensusKey: consensusKeys[a.key]!.publicKey,
      });
    case 'unjail':
      return stakingTx(CHAIN_ID, operator, coin, { kind: 'unjail' });
  }
}
