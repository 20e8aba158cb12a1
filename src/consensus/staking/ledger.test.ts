/**
 * What the staking ledger leaves in the state, record by record: the state
 * root commits to every key, so a zero amount stored instead of deleted, or
 * an unbonding entry slashed one millisecond too late, is a fork between
 * nodes even when every amount reads the same.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  duplicateVotes,
  SHORT_STAKING_PARAMS,
  StakingHarness,
  twoValidators,
  validatorKeys,
} from '../../../test/support/staking-fixture.ts';
import { newOverlay } from '../../../test/support/state-fixture.ts';
import { COIN, MAX_MONEY } from '../../primitives/amount.ts';
import { StateKeys } from '../../state/keys.ts';
import { compareBytes } from '../../util/bytes.ts';
import { VerificationError } from '../errors.ts';
import { StakingLedger } from './ledger.ts';
import { encodeStakingPayload, type StakingPayload } from './payload.ts';
import { decodeJail, decodeSet, decodeUnbonding } from './records.ts';
import { validatorIdOf } from './rules.ts';

const params = SHORT_STAKING_PARAMS;
const keys = validatorKeys('ledger');
const { op, cons } = keys;
const tx = (p: StakingPayload) => encodeStakingPayload(p);

describe('staking ledger records', () => {
  let h: StakingHarness;
  afterEach(() => h.close());

  const open = () => StakingHarness.open(params, twoValidators(keys));

  it('deletes a stake that reaches zero and an unbonding entry once withdrawn', async () => {
    h = await open();
    const a = op('a').publicKey;
    const id = validatorIdOf(a);
    assert.notEqual(await h.t.store.get(StateKeys.stake(id)), undefined);
    await h.block((b) => b.applyTx(tx({ kind: 'unbond', amount: 100n * COIN }), a));
    const created = h.height;
    assert.equal(await h.t.store.get(StateKeys.stake(id)), undefined, 'no zero-stake record');
    assert.notEqual(await h.t.store.get(StateKeys.unbonding(id, created)), undefined);
    await h.block((b) => b.applyTx(tx({ kind: 'withdraw', creationHeight: created }), a), {
      advanceMs: params.unbondingPeriodMs,
    });
    assert.equal(await h.t.store.get(StateKeys.unbonding(id, created)), undefined);
    assert.deepEqual(await h.totals(), { bonded: 50n * COIN, unbonding: 0n, slashed: 0n });
  });

  it('slashes the unbonding entries not yet withdrawable, not one that matures at the block time', async () => {
    h = await open();
    const a = op('a').publicKey;
    const id = validatorIdOf(a);
    await h.block(async () => {});
    await h.block((b) => b.applyTx(tx({ kind: 'unbond', amount: 10n * COIN }), a));
    const matured = h.height;
    const maturedAt = h.timeMs + params.unbondingPeriodMs;
    await h.block((b) => b.applyTx(tx({ kind: 'unbond', amount: 20n * COIN }), a), {
      advanceMs: 1,
    });
    const pending = h.height;
    // The evidence block's time is exactly when the first entry matures.
    await h.block((b) => b.applyEvidence(duplicateVotes(cons('a'), 1), h.times[1]!), {
      advanceMs: maturedAt - h.timeMs,
    });
    assert.equal(h.timeMs, maturedAt);
    // Tombstoned, jailed from the block's time, its liveness window gone.
    assert.deepEqual(decodeJail((await h.t.store.get(StateKeys.jail(id)))!), {
      jailedUntilMs: maturedAt,
      tombstoned: true,
    });
    assert.equal(await h.t.store.get(StateKeys.missedBlocks(id)), undefined);
    const entry = async (height: number) =>
      decodeUnbonding((await h.t.store.get(StateKeys.unbonding(id, height)))!).amount;
    assert.equal(await entry(matured), 10n * COIN, 'withdrawable at the block time: not slashed');
    assert.equal(await entry(pending), 19n * COIN, 'one millisecond short: slashed 5%');
    const bondedCut = (70n * COIN * 5n) / 100n;
    assert.deepEqual(await h.totals(), {
      bonded: 70n * COIN - bondedCut + 50n * COIN,
      unbonding: 10n * COIN + 19n * COIN,
      slashed: bondedCut + COIN,
    });
  });

  it('seats the top maxValidators by power, a tie to the lower validator id, stored in consensus-key order', async () => {
    // Labels picked so that no shortcut gives the same set: the strongest (b)
    // has the highest validator id, so ordering by id alone drops it; a and e
    // tie for the last seat and a has the lower id; b's consensus key sorts
    // after a's, so power order is not the stored (commit index) order.
    const set = validatorKeys('active set');
    const id = (n: string) => validatorIdOf(set.op(n).publicKey);
    assert.ok(compareBytes(id('b'), id('a')) > 0 && compareBytes(id('b'), id('e')) > 0);
    assert.ok(compareBytes(id('a'), id('e')) < 0);
    assert.ok(compareBytes(set.cons('b').publicKey, set.cons('a').publicKey) > 0);
    const v = (n: string, bonded: bigint) => ({
      operatorKey: set.op(n).publicKey,
      consensusKey: set.cons(n).publicKey,
      bonded,
    });
    h = await StakingHarness.open({ ...params, maxValidators: 2 }, [
      v('a', 50n * COIN),
      v('b', 100n * COIN),
      v('e', 50n * COIN),
    ]);
    const stored = decodeSet((await h.t.store.get(StateKeys.validatorSet(1)))!);
    assert.deepEqual(
      stored.map((m) => m.consensusKey),
      [set.cons('a').publicKey, set.cons('b').publicKey],
    );
  });

  it('refuses to move a staking total below zero or above MAX_MONEY', async () => {
    h = await open();
    const ledger = new StakingLedger(newOverlay(h.t), params);
    const { bonded } = await h.totals();
    const outOfRange = (error: unknown) =>
      error instanceof VerificationError && error.code === 'STAKE_AMOUNT_OUT_OF_RANGE';
    await assert.rejects(ledger.moveTotals({ bonded: -bonded - 1n }), outOfRange);
    await assert.rejects(ledger.moveTotals({ slashed: MAX_MONEY + 1n }), outOfRange);
    await ledger.moveTotals({ bonded: -bonded, slashed: MAX_MONEY });
    assert.deepEqual(await ledger.totals(), { bonded: 0n, unbonding: 0n, slashed: MAX_MONEY });
  });
});
