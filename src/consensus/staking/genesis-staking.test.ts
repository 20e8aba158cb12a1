/**
 * The genesis registry (`writeGenesisStaking`): which genesis validator lists
 * are refused, and what an accepted one leaves in the state. A genesis file is
 * operator input, not peer input, so faults are RangeErrors; each case breaks
 * exactly one condition next to an accepted control.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { validatorKeys } from '../../../test/support/staking-fixture.ts';
import { newOverlay, openTestState, type TestState } from '../../../test/support/state-fixture.ts';
import { COIN, MAX_MONEY } from '../../primitives/amount.ts';
import { compareBytes } from '../../util/bytes.ts';
import { readTotals, readValidatorSet } from './ledger.ts';
import { DEFAULT_STAKING_PARAMS, type StakingParams } from './params.ts';
import { type GenesisValidator, validatorIdOf, writeGenesisStaking } from './rules.ts';

const params: StakingParams = { ...DEFAULT_STAKING_PARAMS, minSelfBond: 2n * COIN };
const keys = validatorKeys('genesis');
const op = (n: string) => keys.op(n).publicKey;
const cons = (n: string) => keys.cons(n).publicKey;
const v = (n: string, bonded = 10n * COIN): GenesisValidator => ({
  operatorKey: op(n),
  consensusKey: cons(n),
  bonded,
});

describe('writeGenesisStaking', () => {
  let t: TestState;
  beforeEach(async () => {
    t = await openTestState(2);
  });
  afterEach(() => t.close());

  const write = (validators: readonly GenesisValidator[], p: StakingParams = params) =>
    writeGenesisStaking(newOverlay(t), p, validators);

  it('bonds every validator, totals the stake and schedules one set for heights 1 and 2', async () => {
    const overlay = newOverlay(t);
    const members = await writeGenesisStaking(overlay, params, [
      v('a', 30n * COIN),
      v('b', 20n * COIN),
    ]);
    assert.deepEqual(
      members.map((m) => m.consensusKey),
      [cons('a'), cons('b')].sort(compareBytes),
      'sorted by consensus key, the commit index order',
    );
    assert.deepEqual(
      members.map((m) => [m.power, m.validatorId]).sort((x, y) => Number(x[0]) - Number(y[0])),
      [
        [20n, validatorIdOf(op('b'))],
        [30n, validatorIdOf(op('a'))],
      ],
    );
    assert.deepEqual(await readValidatorSet(overlay, 1), members);
    assert.deepEqual(await readValidatorSet(overlay, 2), members);
    assert.equal(await readValidatorSet(overlay, 3), undefined);
    assert.deepEqual(await readTotals(overlay), { bonded: 50n * COIN, unbonding: 0n, slashed: 0n });
  });

  it('refuses keys that are not compressed curve points, operator or consensus', async () => {
    const offCurve = new Uint8Array(33).fill(0xff);
    offCurve[0] = 2;
    const uncompressed = Uint8Array.of(4, ...cons('a').subarray(1));
    for (const bad of [offCurve, uncompressed, cons('a').subarray(0, 32)]) {
      await assert.rejects(write([{ ...v('a'), operatorKey: bad }]), RangeError);
      await assert.rejects(write([{ ...v('a'), consensusKey: bad }]), RangeError);
    }
    assert.equal((await write([v('a')])).length, 1);
  });

  it('refuses one operator twice, and one consensus key for two operators', async () => {
    await assert.rejects(
      write([v('a'), { ...v('a'), consensusKey: cons('other') }]),
      /duplicate genesis operator/,
    );
    await assert.rejects(
      write([v('a'), { ...v('b'), consensusKey: cons('a') }]),
      /duplicate genesis consensus key/,
    );
  });

  it('bonds from the minimum self-bond up to the money limit, nothing outside', async () => {
    await assert.rejects(write([v('a', params.minSelfBond - 1n)]), /out of range/);
    await assert.rejects(write([v('a', MAX_MONEY + 1n)]), /out of range/);
    const [low] = await write([v('a', params.minSelfBond)]);
    assert.equal(low!.power, params.minSelfBond / params.powerReduction);
    const [high] = await write([v('a', MAX_MONEY)]);
    assert.equal(high!.power, MAX_MONEY / params.powerReduction);
  });

  it('refuses a genesis in which no validator has voting power', async () => {
    // A bond below one unit of power counts for nothing in the set.
    const p = { ...params, minSelfBond: 1n };
    await assert.rejects(write([v('a', COIN - 1n)], p), /no validator with voting power/);
    await assert.rejects(write([], p), /no validator with voting power/);
    const members = await write([v('a', COIN - 1n), v('b', COIN)], p);
    assert.deepEqual(
      members.map((m) => m.consensusKey),
      [cons('b')],
    );
  });
});
