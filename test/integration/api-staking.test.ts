/**
 * The staking routes on a real ApiServer: /validators joined with a registry
 * written by the real staking rules on a real state store, a validator's
 * detail (unbonding, jail, tombstone, missed blocks), the evidence list and
 * /consensus answering 503 without an engine. (/consensus on a running
 * engine: test/cli/stake.test.ts, against a real node process.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RpcClient, RpcError } from '../../src/client/rpc-client.ts';
import { StakingQueriesFromState } from '../../src/consensus/staking/queries.ts';
import { NETWORK_HRP } from '../../src/crypto/address.ts';
import { lockToAddress } from '../../src/primitives/address.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { toHex } from '../../src/util/bytes.ts';
import { type ApiFixture, startApiFixture } from '../support/api-server.ts';
import { testKey } from '../support/chain-fixture.ts';
import { runStakingScenario, type StakingScenario } from '../support/staking-scenario.ts';

describe('staking API', () => {
  let s: StakingScenario;
  let f: ApiFixture;
  let bare: ApiFixture;
  let client: RpcClient;
  const address = (key: Uint8Array) =>
    lockToAddress(pubkeyLock(key), NETWORK_HRP[f.t.chain.params.network]);

  before(async () => {
    // The API fixture's chain is validated by testKey(0): make it validator a's consensus key.
    s = await runStakingScenario(testKey(0));
    f = await startApiFixture({
      staking: new StakingQueriesFromState({ params: s.h.params }, { state: s.h.t.store }),
    });
    bare = await startApiFixture();
    // No token: every staking read is public.
    client = new RpcClient({ url: f.url });
  });
  after(async () => {
    await f?.close();
    await bare?.close();
    await s?.h.close();
  });

  it('lists the set deciding the next block with registry stake, status and missed blocks', async () => {
    const v = await client.validators();
    assert.equal(v.height, f.t.chain.tipHeight + 1);
    assert.equal(v.signedBlocksWindow, s.h.params.signedBlocksWindow);
    assert.equal(v.validators.length, 1);
    const a = v.validators[0]!;
    assert.equal(a.publicKey, toHex(s.a.consensus.publicKey));
    assert.equal(a.status, 'active');
    assert.equal(a.validatorId, toHex(s.a.id));
    assert.equal(a.operator, address(s.a.operator.publicKey));
    assert.equal(a.bonded, (75n * COIN).toString());
    assert.equal(a.jailedUntil, null);
    assert.equal(a.missedBlocks, 0);
  });

  it('without a staking state lists the set with its registry fields null', async () => {
    const v = await new RpcClient({ url: bare.url }).validators();
    assert.equal(v.signedBlocksWindow, null);
    assert.deepEqual(
      { ...v.validators[0], publicKey: undefined, power: undefined },
      {
        index: 0,
        publicKey: undefined,
        power: undefined,
        status: 'active',
        validatorId: null,
        operator: null,
        bonded: null,
        jailedUntil: null,
        missedBlocks: null,
      },
    );
  });

  it('shows one validator by id or consensus key: unbonding entries, power, liveness', async () => {
    const byId = await client.validator(toHex(s.a.id));
    const byKey = await client.validator(toHex(s.a.consensus.publicKey));
    assert.deepEqual(byKey, byId);
    assert.equal(byId.status, 'active');
    assert.equal(byId.index, 0);
    assert.equal(byId.operatorKey, toHex(s.a.operator.publicKey));
    assert.deepEqual(
      byId.unbonding.map((u) => [u.creationHeight, u.amount]),
      s.unbonds.map((u) => [u.height, u.amount.toString()]),
    );
    assert.ok(byId.unbonding.every((u) => u.completesAt > 0));
    const c = await client.validator(toHex(s.c.id));
    assert.equal(c.status, 'inactive', 'registered, not in the chain’s set');
    assert.equal(c.power, '0');
    assert.equal(c.index, null);
    assert.equal(c.missedBlocks, s.cMissed);
  });

  it('reports jailed and tombstoned validators as such', async () => {
    const d = await client.validator(toHex(s.d.id));
    assert.equal(d.status, 'jailed');
    assert.ok(d.jailedUntil !== null && d.jailedUntil > 0);
    assert.equal(d.tombstoned, false);
    const b = await client.validator(toHex(s.b.id));
    assert.equal(b.status, 'tombstoned');
    assert.equal(b.tombstoned, true);
  });

  it('answers 404 for an unknown validator and 400 for a malformed id', async () => {
    await assert.rejects(
      client.validator('ab'.repeat(32)),
      (e: unknown) => e instanceof RpcError && e.status === 404 && e.code === 'NOT_FOUND',
    );
    await assert.rejects(
      client.validator('zz'),
      (e: unknown) => e instanceof RpcError && e.status === 400,
    );
    // 33 bytes that are not a compressed key (prefix 04).
    await assert.rejects(
      client.validator(`04${'ab'.repeat(32)}`),
      (e: unknown) => e instanceof RpcError && e.status === 400,
    );
  });

  it('lists the validator punished by committed evidence, paged by id', async () => {
    const page = await client.evidence({ limit: 1 });
    assert.equal(page.items.length, 1);
    assert.equal(page.next, null);
    assert.deepEqual(page.items[0], {
      kind: 'duplicate-vote',
      validatorId: toHex(s.b.id),
      operator: address(s.b.operator.publicKey),
      consensusKey: toHex(s.b.consensus.publicKey),
      bonded: (76n * COIN).toString(),
    });
    const after = await client.evidence({ after: toHex(s.b.id) });
    assert.deepEqual(after, { items: [], next: null, pending: [] });
    await assert.rejects(
      client.evidence({ limit: 0 }),
      (e: unknown) => e instanceof RpcError && e.code === 'VALIDATION_ERROR',
    );
  });

  it('answers 503 SERVICE_UNAVAILABLE for state it does not have: no registry, no engine', async () => {
    const plain = new RpcClient({ url: bare.url });
    for (const call of [
      () => plain.evidence(),
      () => plain.validator(toHex(s.a.id)),
      () => plain.consensus(),
    ])
      await assert.rejects(
        call(),
        (e: unknown) =>
          e instanceof RpcError && e.status === 503 && e.code === 'SERVICE_UNAVAILABLE',
      );
  });
});
