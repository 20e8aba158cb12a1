import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  StakingHarness,
  stakingKey,
  TEST_CHAIN_ID_HASH,
} from '../../../test/support/staking-fixture.ts';
import { sign } from '../../crypto/signer.ts';
import { COIN } from '../../primitives/amount.ts';
import { VoteType, voteDigest } from '../../primitives/commit.ts';
import { Namespace, StateKeys } from '../../state/keys.ts';
import { StateOverlay } from '../../state/overlay.ts';
import { VerificationError } from '../errors.ts';
import { StakingLedger } from './ledger.ts';
import { DEFAULT_STAKING_PARAMS, type StakingParams } from './params.ts';
import { encodeStakingPayload, type StakingPayload } from './payload.ts';
import { decodeAmount, decodeUnbonding } from './records.ts';
import type { StakingBlock } from './rules.ts';

const params: StakingParams = {
  ...DEFAULT_STAKING_PARAMS,
  unbondingPeriodMs: 30_000,
  signedBlocksWindow: 4,
  downtimeJailMs: 10_000,
  evidenceMaxAgeBlocks: 5,
  evidenceMaxAgeMs: 20_000,
};
const OPERATORS = 4;
const KEYS_PER_OPERATOR = 3;
const operator = (i: number) => stakingKey(`supply operator ${i}`);
const consensus = (i: number, k: number) => stakingKey(`supply consensus ${i}/${k}`);
const SUBSIDY = COIN;
const ALLOCATION = 100n * COIN;
const GENESIS_BOND = 20n * COIN;

type Action =
  | { t: 'bond'; op: number; coins: number; key: number }
  | { t: 'unbond'; op: number; coins: number }
  | { t: 'withdraw'; op: number; pick: number }
  | { t: 'withdrawOf'; op: number; height: number }
  | { t: 'rotate'; op: number; key: number }
  | { t: 'unjail'; op: number }
  | { t: 'evidence'; op: number; key: number; back: number };

const opArb = fc.nat({ max: OPERATORS - 1 });
const keyArb = fc.nat({ max: KEYS_PER_OPERATOR - 1 });
const actionArb: fc.Arbitrary<Action> = fc.oneof(
  fc.record({
    t: fc.constant('bond' as const),
    op: opArb,
    coins: fc.integer({ min: 1, max: 30 }),
    key: keyArb,
  }),
  {
    arbitrary: fc.record({
      t: fc.constant('unbond' as const),
      op: opArb,
      coins: fc.integer({ min: 1, max: 8 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ t: fc.constant('withdraw' as const), op: opArb, pick: fc.nat() }),
    weight: 6,
  },
  fc.record({ t: fc.constant('rotate' as const), op: opArb, key: keyArb }),
  { arbitrary: fc.record({ t: fc.constant('unjail' as const), op: opArb }), weight: 6 },
  {
    arbitrary: fc.record({
      t: fc.constant('evidence' as const),
      op: opArb,
      key: fc.constantFrom(0, 0, 0, 1, 2),
      back: fc.integer({ min: 1, max: 8 }),
    }),
    weight: 3,
  },
);
const blockArb = fc.record({
  actions: fc.array(actionArb, { maxLength: 4 }),
  missRate: fc.constantFrom(0, 0.3, 0.9, 0.9),
  missSeed: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }),
  advanceMs: fc.constantFrom(1000, 1000, 1000, 15_000, 40_000),
  fee: fc.bigInt({ min: 0n, max: 1000n }),
  coinbaseShare: fc.bigInt({ min: 0n, max: 100n }),
  coinbaseTo: opArb,
});

interface Model {
  coins: bigint[];
  rewards: bigint;
  burned: bigint;
  unbondings: { op: number; height: number }[];
}

/** Successful actions across all runs: the property must not hold vacuously. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

const GENESIS_SUPPLY = BigInt(OPERATORS) * ALLOCATION + 2n * GENESIS_BOND;

async function applyAction(
  h: StakingHarness,
  b: StakingBlock,
  a: Action,
  model: Model,
  fee: bigint,
): Promise<bigint> {
  const opKey = operator(a.op).publicKey;
  let payload: StakingPayload;
  switch (a.t) {
    case 'bond':
      payload = {
        kind: 'bond',
        amount: BigInt(a.coins) * COIN,
        consensusKey: consensus(a.op, a.key).publicKey,
      };
      break;
    case 'unbond':
      payload = { kind: 'unbond', amount: BigInt(a.coins) * COIN };
      break;
    case 'withdraw': {
      // Any open entry (its operator withdraws), so that withdrawals are common.
      const pick = model.unbondings[a.pick % Math.max(1, model.unbondings.length)];
      if (pick === undefined) return 0n;
      return applyAction(h, b, { t: 'withdrawOf', op: pick.op, height: pick.height }, model, fee);
    }
    case 'withdrawOf':
      payload = { kind: 'withdraw', creationHeight: a.height };
      break;
    case 'rotate':
      payload = { kind: 'rotateKey', consensusKey: consensus(a.op, a.key).publicKey };
      break;
    case 'unjail':
      payload = { kind: 'unjail' };
      break;
    case 'evidence': {
      const height = Math.max(1, h.height + 1 - a.back);
      const key = consensus(a.op, a.key);
      const sig = (fill: number) =>
        sign(
          voteDigest(
            TEST_CHAIN_ID_HASH,
            VoteType.precommit,
            height,
            0,
            new Uint8Array(32).fill(fill),
          ),
          key.privateKey,
        );
      await b.applyEvidence(
        {
          voteType: VoteType.precommit,
          height,
          round: 0,
          consensusKey: key.publicKey,
          blockHashA: new Uint8Array(32).fill(1),
          signatureA: sig(1),
          blockHashB: new Uint8Array(32).fill(2),
          signatureB: sig(2),
        },
        h.times[height]!,
      );
      count('evidence');
      return 0n;
    }
  }
  // The transaction must be fundable from the operator's coins (the chain checks that).
  if (payload.kind === 'bond' && model.coins[a.op]! < payload.amount + fee) return 0n;
  if (model.coins[a.op]! < fee) return 0n;
  const effect = await b.applyTx(encodeStakingPayload(payload), opKey);
  model.coins[a.op] = model.coins[a.op]! + effect.valueIn - effect.valueOut - fee;
  if (payload.kind === 'unbond') model.unbondings.push({ op: a.op, height: h.height + 1 });
  if (payload.kind === 'withdraw') {
    const { creationHeight } = payload;
    model.unbondings = model.unbondings.filter((u) => u.op !== a.op || u.height !== creationHeight);
  }
  count(payload.kind);
  return fee;
}

async function checkInvariants(h: StakingHarness, model: Model): Promise<void> {
  const totals = await h.totals();
  let bonded = 0n;
  for await (const e of h.t.store.entries(StateKeys.namespace(Namespace.stake)))
    bonded += decodeAmount(e.value);
  let unbonding = 0n;
  for await (const e of h.t.store.entries(StateKeys.namespace(Namespace.unbonding))) {
    unbonding += decodeUnbonding(e.value).amount;
  }
  assert.equal(totals.bonded, bonded, 'bonded total = sum of stakes');
  for await (const e of h.t.store.entries(StateKeys.namespace(Namespace.jail))) {
    count(e.value[8] === 1 ? 'tombstoned' : 'jailed');
  }
  assert.equal(totals.unbonding, unbonding, 'unbonding total = sum of entries');
  const coins = model.coins.reduce((x, y) => x + y, 0n);
  assert.equal(
    coins + totals.bonded + totals.unbonding,
    GENESIS_SUPPLY + model.rewards - model.burned - totals.slashed,
    'coins + bonded + unbonding = genesis supply + rewards - burned - slashed',
  );
  // The scheduled set is the registry's top set (unless that is empty and the last set carried over).
  const active = await new StakingLedger(new StateOverlay(h.t.store), params).computeActiveSet();
  const scheduled = await h.setAt(h.height + 2);
  if (active.length > 0) assert.deepEqual(scheduled, active);
}

describe('staking supply invariant', () => {
  it('holds at every height over random staking, evidence and missed blocks', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(blockArb, { minLength: 1, maxLength: 30 }), async (blocks) => {
        const h = await StakingHarness.open(params, [
          {
            operatorKey: operator(0).publicKey,
            consensusKey: consensus(0, 0).publicKey,
            bonded: GENESIS_BOND,
          },
          {
            operatorKey: operator(1).publicKey,
            consensusKey: consensus(1, 0).publicKey,
            bonded: GENESIS_BOND,
          },
        ]);
        const model: Model = {
          coins: Array.from({ length: OPERATORS }, () => ALLOCATION),
          rewards: 0n,
          burned: 0n,
          unbondings: [],
        };
        try {
          await checkInvariants(h, model);
          for (const blk of blocks) {
            const last = h.height >= 1 ? ((await h.setAt(h.height)) ?? []) : [];
            const signed = last.map((_, i) => blk.missSeed[i % 8]! >= blk.missRate);
            let fees = 0n;
            await h.block(
              async (b) => {
                for (const action of blk.actions) {
                  try {
                    fees += await applyAction(h, b, action, model, blk.fee);
                  } catch (error) {
                    if (!(error instanceof VerificationError)) throw error;
                  }
                }
              },
              { signed, advanceMs: blk.advanceMs },
            );
            // The proposer's coinbase takes up to subsidy + fees; what it leaves is burned.
            const coinbase = ((SUBSIDY + fees) * blk.coinbaseShare) / 100n;
            model.rewards += SUBSIDY;
            model.burned += SUBSIDY + fees - coinbase;
            model.coins[blk.coinbaseTo] = model.coins[blk.coinbaseTo]! + coinbase;
            await checkInvariants(h, model);
          }
        } finally {
          await h.close();
        }
      }),
      { numRuns: 40 },
    );
    console.log([...seen].join(' '));
    for (const what of [
      'bond',
      'unbond',
      'withdraw',
      'rotateKey',
      'unjail',
      'evidence',
      'jailed',
    ]) {
      assert.ok((seen.get(what) ?? 0) > 0, `no successful ${what} in any run: ${[...seen]}`);
    }
  });
});
