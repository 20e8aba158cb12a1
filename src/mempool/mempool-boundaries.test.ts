/**
 * The mempool's time and height boundaries at the exact value (the main
 * tests step past them): expiry at exactly `expiryMs`, a snapshot entry
 * exactly `expiryMs` old, and the lock-time re-check after the height went
 * backwards, which keeps a transaction final at the next height.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  outputsOf,
  spend,
  TestKey,
  testBlock,
  testMempool,
} from '../../test/support/mempool-fixture.ts';

const alice = new TestKey(21);
const bob = new TestKey(22);

describe('mempool boundaries', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'utxod-mempool-bounds-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('expires an entry older than expiryMs, not one exactly that old, with its descendants', async () => {
    const { mempool, chain, clock } = testMempool({ expiryMs: 60_000 });
    const old = spend([chain.fund(alice, 100_000n)], 1000n);
    await mempool.add(old);
    clock.now += 1;
    const child = spend([outputsOf(old, alice)[0]!], 1000n);
    await mempool.add(child);
    clock.now += 59_999;
    assert.equal(mempool.expire(), 0, 'exactly expiryMs old');
    assert.equal(mempool.size, 2);
    clock.now += 1;
    assert.equal(mempool.expire(), 2, 'one millisecond more: it goes, its child with it');
    assert.equal(mempool.stats.expired, 2);
    mempool.checkConsistency();
  });

  it('reloads a saved entry exactly expiryMs old, and skips one a millisecond older', async () => {
    const { mempool, chain, clock } = testMempool();
    const first = spend([chain.fund(alice, 100_000n)], 1000n);
    await mempool.add(first);
    clock.now += 1;
    const second = spend([chain.fund(bob, 100_000n)], 1000n);
    await mempool.add(second);
    const path = join(dir, 'bounds.dat');
    await mempool.saveTo(path);
    const fresh = testMempool({ expiryMs: 10_000 }, { chain });
    fresh.clock.now = clock.now + 10_000;
    assert.deepEqual(await fresh.mempool.loadFrom(path), {
      found: true,
      accepted: 1,
      skipped: 1,
    });
    assert.ok(fresh.mempool.has(second.txid));
    assert.equal(fresh.mempool.get(second.txid)?.time, clock.now, 'its arrival time is kept');
  });

  it('after the height goes backwards, drops only what is not final at the next height', async () => {
    const { mempool, chain } = testMempool();
    chain.tipHeight = 110;
    const due = spend([chain.fund(alice, 10_000n)], 1000n, { lockTime: 105 });
    const later = spend([chain.fund(bob, 10_000n)], 1000n, { lockTime: 106 });
    const child = spend([outputsOf(later, bob)[0]!], 1000n);
    for (const tx of [due, later, child]) assert.equal((await mempool.add(tx)).status, 'accepted');
    await mempool.removeForBlock(testBlock(110, []));
    assert.equal(mempool.size, 3);
    // Back to 104: the next block is 105, where lock time 105 is final and 106 is not.
    await mempool.removeForBlock(testBlock(104, []));
    assert.ok(mempool.has(due.txid));
    assert.equal(mempool.has(later.txid), false);
    assert.equal(mempool.has(child.txid), false, 'its descendants go with it');
    assert.equal(mempool.stats.conflicted, 2);
    mempool.checkConsistency();
  });

  it('counts what a block double-spends as conflicted, and what it confirms as confirmed', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    const ours = spend([coin], 1000n);
    const mined = spend([chain.fund(bob, 100_000n)], 1000n);
    for (const tx of [ours, mined]) await mempool.add(tx);
    const theirs = spend([coin], 500n, { to: bob });
    const result = await mempool.removeForBlock(chain.connect([theirs, mined]));
    assert.deepEqual(result, { confirmed: 1, conflicted: 1, resolvedOrphans: [] });
    assert.equal(mempool.stats.conflicted, 1);
    assert.equal(mempool.stats.confirmed, 1);
    assert.equal(mempool.size, 0);
  });
});
