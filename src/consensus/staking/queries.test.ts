import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  runStakingScenario,
  type StakingScenario,
} from '../../../test/support/staking-scenario.ts';
import { COIN } from '../../primitives/amount.ts';
import { StateKeys } from '../../state/keys.ts';
import { bytesEqual } from '../../util/bytes.ts';
import { MAX_UNBONDING_VIEW, StakingQueriesFromState } from './queries.ts';
import { decodeUnbonding } from './records.ts';

describe('StakingQueriesFromState over a real store', () => {
  let s: StakingScenario;
  let q: StakingQueriesFromState;
  before(async () => {
    s = await runStakingScenario();
    q = new StakingQueriesFromState({ params: s.h.params }, { state: s.h.t.store });
  });
  after(() => s.h.close());

  it('reads a validator: keys, bond after unbonding, unbonding entries by height, clean jail', async () => {
    const v = await q.validator(s.a.id);
    assert.ok(v !== undefined);
    assert.ok(bytesEqual(v.operatorKey, s.a.operator.publicKey));
    assert.ok(bytesEqual(v.consensusKey, s.a.consensus.publicKey));
    assert.equal(v.bonded, 75n * COIN);
    assert.deepEqual(
      v.unbonding.map((u) => [u.creationHeight, u.amount]),
      s.unbonds.map((u) => [u.height, u.amount]),
    );
    // The completion time is the stored one, not recomputed here.
    const stored = decodeUnbonding(
      (await s.h.t.store.get(StateKeys.unbonding(s.a.id, s.unbonds[0]!.height)))!,
    );
    assert.equal(v.unbonding[0]!.completesAtMs, stored.completesAtMs);
    assert.equal(v.unbondingTruncated, false);
    assert.equal(v.tombstoned, false);
    assert.equal(v.jailedUntilMs, 0);
    assert.equal(v.missedBlocks, 0);
    assert.ok(v.observedBlocks > 0);
    assert.ok(MAX_UNBONDING_VIEW >= 2);
  });

  it('counts the blocks a validator missed in its window', async () => {
    const v = await q.validator(s.c.id);
    assert.equal(v?.missedBlocks, s.cMissed);
    assert.equal(v?.tombstoned, false);
  });

  it('reads a jailed validator: jailed until a block time, not tombstoned', async () => {
    const v = await q.validator(s.d.id);
    assert.ok(v !== undefined && v.jailedUntilMs > 0);
    assert.equal(v.jailedUntilMs <= s.h.timeMs + s.h.params.downtimeJailMs, true);
    assert.equal(v.tombstoned, false);
  });

  it('finds a validator by consensus key and answers undefined for unknown ids and keys', async () => {
    const v = await q.validatorByConsensusKey(s.c.consensus.publicKey);
    assert.ok(v !== undefined && bytesEqual(v.validatorId, s.c.id));
    assert.equal(await q.validator(new Uint8Array(32).fill(9)), undefined);
    assert.equal(await q.validator(new Uint8Array(5)), undefined);
    assert.equal(await q.validatorByConsensusKey(s.a.operator.publicKey), undefined);
  });

  it('lists the validator tombstoned by committed evidence, slashed 5%, and pages by id', async () => {
    const page = await q.tombstoned({ limit: 10, after: null });
    assert.equal(page.items.length, 1);
    assert.equal(page.next, null);
    const b = page.items[0]!;
    assert.ok(bytesEqual(b.validatorId, s.b.id));
    assert.equal(b.tombstoned, true);
    assert.equal(b.bonded, 80n * COIN - (80n * COIN * 5n) / 100n);
    const rest = await q.tombstoned({ limit: 10, after: s.b.id });
    assert.deepEqual(rest.items, []);
  });
});
