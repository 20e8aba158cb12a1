/**
 * The time boundaries of the staking rules, each at the exact millisecond
 * (the rule tests elsewhere step past them by whole blocks), and the rule
 * that staking alone never empties the validator set.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  duplicateVotes,
  rejectsWith,
  SHORT_STAKING_PARAMS,
  StakingHarness,
  twoValidators,
  validatorKeys,
} from '../../../test/support/staking-fixture.ts';
import { COIN, MAX_MONEY } from '../../primitives/amount.ts';
import { StateKeys } from '../../state/keys.ts';
import { bytesEqual } from '../../util/bytes.ts';
import { encodeStakingPayload, type StakingPayload } from './payload.ts';
import { decodeJail, decodeUnbonding } from './records.ts';
import { type StakingBlock, validatorIdOf } from './rules.ts';

const params = SHORT_STAKING_PARAMS;
const keys = validatorKeys('boundary');
const { op, cons } = keys;
const tx = (p: StakingPayload) => encodeStakingPayload(p);
const genesis = twoValidators(keys);
const rejects = rejectsWith;

describe('staking rules at their exact boundaries', () => {
  let h: StakingHarness;
  afterEach(() => h.close());

  it('unjails from the first millisecond the jail allows, not one before', async () => {
    h = await StakingHarness.open(params, genesis);
    const b = validatorIdOf(op('b').publicKey);
    const set = (await h.setAt(1))!;
    const signed = set.map((m) => !bytesEqual(m.validatorId, b));
    await h.block(async () => {});
    while ((await h.t.store.get(StateKeys.jail(b))) === undefined) {
      assert.ok(h.height < 20, 'never jailed');
      await h.block(async () => {}, { signed });
    }
    const until = decodeJail((await h.t.store.get(StateKeys.jail(b)))!).jailedUntilMs;
    assert.equal(until, h.timeMs + params.downtimeJailMs);
    // Still in the next set and still missing: a jailed validator is not counted again.
    const slashed = (await h.totals()).slashed;
    await h.block(async () => {}, { signed });
    assert.equal(await h.t.store.get(StateKeys.missedBlocks(b)), undefined);
    assert.equal((await h.totals()).slashed, slashed);
    const unjail = (blk: StakingBlock) => blk.applyTx(tx({ kind: 'unjail' }), op('b').publicKey);
    await assert.rejects(
      h.block(unjail, { advanceMs: until - h.timeMs - 1 }),
      rejects('STAKE_JAIL_NOT_EXPIRED'),
    );
    await h.block(unjail, { advanceMs: until - h.timeMs });
    assert.equal(await h.t.store.get(StateKeys.jail(b)), undefined);
    assert.equal(await h.t.store.get(StateKeys.missedBlocks(b)), undefined);
  });

  it('allows a first key rotation at any time, even before one unbonding period of chain time', async () => {
    // Block times below unbondingPeriodMs: only "never rotated" lets this through.
    h = await StakingHarness.open(params, genesis, 0);
    await h.block((blk) =>
      blk.applyTx(tx({ kind: 'rotateKey', consensusKey: cons('a2').publicKey }), op('a').publicKey),
    );
    assert.ok(h.timeMs < params.unbondingPeriodMs);
    const next = (await h.setAt(h.height + 2))!;
    assert.ok(next.some((m) => bytesEqual(m.consensusKey, cons('a2').publicKey)));
  });

  it('keeps the scheduled set when every validator is tombstoned: staking never halts the chain', async () => {
    h = await StakingHarness.open(params, genesis);
    await h.block(async () => {});
    const before = await h.setAt(h.height + 2);
    await h.block(async (blk) => {
      await blk.applyEvidence(duplicateVotes(cons('a'), 1), h.times[1]!);
      await blk.applyEvidence(duplicateVotes(cons('b'), 1), h.times[1]!);
    });
    const after = await h.setAt(h.height + 2);
    assert.equal(after?.length, 2);
    assert.deepEqual(after, before, 'the set of height + 1 carries over');
    assert.equal((await h.totals()).bonded, ((100n + 50n) * COIN * 95n) / 100n);
  });

  it('refuses an operator key that is not a curve point before touching the registry', async () => {
    h = await StakingHarness.open(params, genesis);
    const offCurve = new Uint8Array(33).fill(0xff);
    offCurve[0] = 2;
    await assert.rejects(
      h.block((blk) =>
        blk.applyTx(
          tx({ kind: 'bond', amount: 2n * COIN, consensusKey: cons('c').publicKey }),
          offCurve,
        ),
      ),
      rejects('STAKE_NO_OPERATOR'),
    );
    assert.equal(await h.t.store.get(StateKeys.consensusKey(cons('c').publicKey)), undefined);
  });

  it('adds two unbonds of one block into one entry of that height', async () => {
    h = await StakingHarness.open(params, genesis);
    const a = op('a').publicKey;
    await h.block(async (blk) => {
      await blk.applyTx(tx({ kind: 'unbond', amount: 10n * COIN }), a);
      await blk.applyTx(tx({ kind: 'unbond', amount: 5n * COIN }), a);
    });
    const raw = await h.t.store.get(StateKeys.unbonding(validatorIdOf(a), h.height));
    assert.equal(decodeUnbonding(raw!).amount, 15n * COIN);
    assert.deepEqual(await h.totals(), { bonded: 135n * COIN, unbonding: 15n * COIN, slashed: 0n });
  });

  it('leaves free a validator that misses exactly the allowed blocks of a full window', async () => {
    h = await StakingHarness.open(params, genesis);
    const b = validatorIdOf(op('b').publicKey);
    const set = (await h.setAt(1))!;
    const missing = set.map((m) => !bytesEqual(m.validatorId, b));
    const allowed =
      params.signedBlocksWindow -
      Math.ceil((params.signedBlocksWindow * params.minSignedPerWindowBps) / 10_000);
    await h.block(async () => {});
    for (let i = 0; i < params.signedBlocksWindow; i++) {
      await h.block(async () => {}, i < allowed ? { signed: missing } : {});
    }
    assert.equal(await h.t.store.get(StateKeys.jail(b)), undefined, 'a full window, none too many');
    // The window slides: the next misses replace the oldest, which were misses too...
    for (let i = 0; i < allowed; i++) {
      await h.block(async () => {}, { signed: missing });
      assert.equal(await h.t.store.get(StateKeys.jail(b)), undefined, 'a miss replaced a miss');
    }
    // ...and the one after replaces a signature.
    await h.block(async () => {}, { signed: missing });
    assert.notEqual(await h.t.store.get(StateKeys.jail(b)), undefined, 'one miss too many');
  });

  it('refuses every staking action of a tombstoned validator but its withdrawals', async () => {
    h = await StakingHarness.open(params, genesis);
    const a = op('a').publicKey;
    await h.block((blk) => blk.applyTx(tx({ kind: 'unbond', amount: 10n * COIN }), a));
    const unbonded = h.height;
    await h.block((blk) => blk.applyEvidence(duplicateVotes(cons('a'), 1), h.times[1]!));
    const attempts: StakingPayload[] = [
      { kind: 'bond', amount: COIN, consensusKey: cons('a').publicKey },
      { kind: 'rotateKey', consensusKey: cons('a9').publicKey },
      { kind: 'unjail' },
    ];
    for (const p of attempts) {
      await assert.rejects(
        h.block((blk) => blk.applyTx(tx(p), a), { advanceMs: params.unbondingPeriodMs }),
        rejects('STAKE_TOMBSTONED'),
      );
    }
    const effect = await h.block(
      (blk) => blk.applyTx(tx({ kind: 'withdraw', creationHeight: unbonded }), a),
      { advanceMs: params.unbondingPeriodMs },
    );
    assert.deepEqual(effect, { valueIn: (10n * COIN * 95n) / 100n, valueOut: 0n });
  });

  it('registers a new validator at exactly the minimum self-bond, not one unit below', async () => {
    h = await StakingHarness.open(params, genesis);
    const bond = (name: string, amount: bigint) => (blk: StakingBlock) =>
      blk.applyTx(
        tx({ kind: 'bond', amount, consensusKey: cons(name).publicKey }),
        op(name).publicKey,
      );
    await assert.rejects(
      h.block(bond('c', params.minSelfBond - 1n)),
      rejects('STAKE_BELOW_MIN_BOND'),
    );
    assert.deepEqual(await h.block(bond('c', params.minSelfBond)), {
      valueIn: 0n,
      valueOut: params.minSelfBond,
    });
    assert.notEqual(
      await h.t.store.get(StateKeys.registry(validatorIdOf(op('c').publicKey))),
      undefined,
    );
  });

  it('bonds a validator up to exactly MAX_MONEY, not one unit more', async () => {
    // A lone validator, so the totals guard (which a bond past any other
    // stake trips first) does not decide it: the per-validator bound does.
    h = await StakingHarness.open(params, [genesis[0]!]);
    const bond = (amount: bigint) => (blk: StakingBlock) =>
      blk.applyTx(
        tx({ kind: 'bond', amount, consensusKey: cons('a').publicKey }),
        op('a').publicKey,
      );
    await assert.rejects(
      h.block(bond(MAX_MONEY - 100n * COIN + 1n)),
      rejects('STAKE_AMOUNT_OUT_OF_RANGE'),
    );
    await h.block(bond(MAX_MONEY - 100n * COIN));
    assert.equal((await h.totals()).bonded, MAX_MONEY);
  });

  it('indexes a rotated consensus key: no other validator may take it', async () => {
    h = await StakingHarness.open(params, genesis);
    const rotate = (who: string) => (blk: StakingBlock) =>
      blk.applyTx(tx({ kind: 'rotateKey', consensusKey: cons('a2').publicKey }), op(who).publicKey);
    await h.block(rotate('a'));
    await assert.rejects(h.block(rotate('b')), rejects('STAKE_CONSENSUS_KEY_IN_USE'));
  });

  it('keeps the sets of heights h .. h+2 and drops the one of h-1', async () => {
    h = await StakingHarness.open(params, genesis);
    for (let i = 0; i < 3; i++) await h.block(async () => {});
    assert.equal(await h.setAt(h.height - 1), undefined);
    for (const at of [h.height, h.height + 1, h.height + 2]) {
      assert.notEqual(await h.setAt(at), undefined, `set of ${at}`);
    }
  });
});
