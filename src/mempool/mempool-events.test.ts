/**
 * The mempool's 'accepted' event, which relay and the API stream follow: one
 * event per transaction that entered the pool, with who sent it, orphans
 * admitted in cascade included (by `add` and by `removeForBlock`), and none
 * for a transaction that was refused or left waiting as an orphan.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { outputsOf, spend, TestKey, testMempool } from '../../test/support/mempool-fixture.ts';
import { toHex } from '../util/bytes.ts';
import type { Mempool } from './mempool.ts';

const alice = new TestKey(11);

/** Every 'accepted' event as [txid hex, origin], in emission order. */
function record(mempool: Mempool): Array<[string, string]> {
  const seen: Array<[string, string]> = [];
  mempool.events.on('accepted', ({ tx, origin }) => {
    seen.push([toHex(tx.txid), origin]);
  });
  return seen;
}

describe('mempool: accepted events', () => {
  it('one per admitted transaction with its origin, the orphans it completes after it', async () => {
    const { mempool, chain } = testMempool();
    const seen = record(mempool);
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    const child = spend([outputsOf(parent, alice)[0]!], 1000n);
    const grandchild = spend([outputsOf(child, alice)[0]!], 1000n);
    assert.equal((await mempool.add(grandchild, 'peer')).status, 'orphan');
    assert.equal((await mempool.add(child, 'peer')).status, 'orphan');
    assert.deepEqual(seen, [], 'an orphan is not accepted yet');
    await assert.rejects(mempool.add(child, 'peer'));
    assert.deepEqual(seen, [], 'a refusal emits nothing');

    assert.equal((await mempool.add(parent)).status, 'accepted');
    assert.deepEqual(seen, [
      [toHex(parent.txid), 'local'],
      [toHex(child.txid), 'orphan'],
      [toHex(grandchild.txid), 'orphan'],
    ]);
    const other = spend([chain.fund(alice, 50_000n)], 1000n);
    await mempool.add(other, 'peer');
    assert.deepEqual(seen.at(-1), [toHex(other.txid), 'peer']);
  });

  it('announces the orphans a block completes, not the block’s own transactions', async () => {
    const { mempool, chain } = testMempool();
    const seen = record(mempool);
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    const waiting = spend([outputsOf(parent, alice)[0]!], 1000n);
    assert.equal((await mempool.add(waiting, 'peer')).status, 'orphan');
    const result = await mempool.removeForBlock(chain.connect([parent]));
    assert.equal(result.resolvedOrphans.length, 1);
    assert.deepEqual(seen, [[toHex(waiting.txid), 'orphan']]);
    assert.ok(mempool.has(waiting.txid));
  });
});
