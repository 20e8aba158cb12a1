/**
 * Orphan spam against a real API server (real mempool, real auth stack, on
 * loopback): an anonymous client sends transactions whose parents nobody has
 * seen. Orphans that can never verify are refused before they take a slot;
 * orphans signed over made-up parents (which no node can tell from real ones
 * until the parent arrives) are bounded per client, by token subject or by
 * address, so the flood evicts only the flooder's own orphans. Another client's
 * orphan survives and is admitted when its parent arrives.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerStateMetrics } from '../../src/metrics/chain.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { toHex } from '../../src/util/bytes.ts';
import { testKey } from '../support/chain-fixture.ts';
import { madeUpOrphan } from '../support/orphans.ts';
import { type SecureApiFixture, startSecureApi } from '../support/secure-api.ts';

const SHARE = 10; // the default maxOrphansPerSource
const SPAMMER = '127.0.0.2';
const HONEST = '127.0.0.3';

describe('orphan spam', { timeout: 60_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    // Rate limits aside (they would slow the spam, not bound the pool): this is about the pool.
    f = await startSecureApi({ auth: { rateLimitSubmit: 10_000 } });
    registerStateMetrics(f.registry, {
      mempool: f.mempool,
      utxoCache: f.t.chain.utxos.cache,
      signatureCache: null,
    });
  });
  after(() => f.close());

  const submit = (hex: string, from: string, token?: string) =>
    f.call('POST', '/api/v1/txs', {
      body: { hex },
      from,
      ...(token === undefined ? {} : { token }),
    });

  it('refuses orphans whose witnesses can never verify, without holding them', async () => {
    const mallory = testKey(66);
    for (const flaw of ['zero-signature', 'high-s', 'bad-key'] as const) {
      const r = await submit(
        toHex(madeUpOrphan(mallory, f.t.chain.chainIdHash, 0, flaw).encode()),
        SPAMMER,
      );
      assert.equal(r.status, 422, `${flaw}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error?.code, 'TX_BAD_SIGNATURE');
    }
    assert.equal(f.mempool.stats.orphans, 0);
  });

  it('bounds a flooding client to its share and keeps other clients’ orphans', async () => {
    // An honest wallet sends a child before its parent (relay order is not guaranteed).
    const chainIdHash = f.t.chain.chainIdHash;
    const parent = await f.pay(1_000_000n);
    const change = parent.outputs[1]!;
    assert.deepEqual(change.lock, pubkeyLock(f.alice.publicKey));
    const child = await f.pay(500_000n, {
      coins: [
        { outpoint: { txid: parent.txid, index: 1 }, amount: change.amount, lock: change.lock },
      ],
    });
    const held = await submit(toHex(child.encode()), HONEST);
    assert.equal(held.status, 202, JSON.stringify(held.body));
    assert.equal(held.body['status'], 'orphan');

    // A reader token is its own client even from the spammer's address.
    const wallet = f.token('wallet-7', 'reader');
    const mallory = testKey(66);
    const walletOrphan = madeUpOrphan(mallory, chainIdHash, 999);
    assert.equal(
      (await submit(toHex(walletOrphan.encode()), SPAMMER, wallet)).body['status'],
      'orphan',
    );

    const flood = 4 * SHARE;
    for (let i = 0; i < flood; i++) {
      const r = await submit(toHex(madeUpOrphan(mallory, chainIdHash, i).encode()), SPAMMER);
      assert.equal(r.status, 202, JSON.stringify(r.body));
    }
    assert.equal(f.mempool.stats.orphans, SHARE + 2);
    assert.ok(f.mempool.hasOrphan(child.txid), 'the honest client’s orphan is still held');
    assert.ok(f.mempool.hasOrphan(walletOrphan.txid), 'the token holder’s orphan is still held');
    assert.equal(await f.metric('utxod_mempool_orphans_sender_limited_total'), flood - SHARE);
    assert.equal(await f.metric('utxod_mempool_orphan_senders'), 3);

    const accepted = await submit(toHex(parent.encode()), HONEST);
    assert.equal(accepted.status, 202, JSON.stringify(accepted.body));
    assert.equal(accepted.body['status'], 'accepted');
    assert.ok(f.mempool.has(child.txid), 'the orphan was admitted with its parent');
  });
});
