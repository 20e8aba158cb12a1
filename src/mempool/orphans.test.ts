import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  outputsOf,
  spend,
  TestKey,
  testChainIdHash,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import { madeUpOrphan } from '../../test/support/orphans.ts';
import { VerificationError } from '../consensus/errors.ts';

const alice = new TestKey(1);
const mallory = new TestKey(66);

describe('orphan admission: what can be checked before the parents are known', () => {
  it('keeps a well-signed orphan and admits it when its parent arrives', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 1_000n);
    const child = spend(outputsOf(parent, alice), 1_000n);
    assert.equal((await mempool.add(child, 'peer', 'peer:a')).status, 'orphan');
    const result = await mempool.add(parent, 'peer', 'peer:b');
    assert.equal(result.status, 'accepted');
    assert.deepEqual(
      result.status === 'accepted' ? result.resolvedOrphans.map((tx) => tx.txid) : [],
      [child.txid],
    );
    assert.equal(mempool.stats.orphans, 0);
    assert.equal(mempool.stats.orphanSources, 0);
  });

  for (const [flaw, reason] of [
    ['zero-signature', /no compact/],
    ['high-s', /high S/],
    ['bad-key', /not a curve point/],
  ] as const) {
    it(`refuses an orphan whose witness can never verify (${flaw})`, async () => {
      const { mempool } = testMempool();
      await assert.rejects(
        mempool.add(madeUpOrphan(mallory, testChainIdHash, 1, flaw), 'local', 'api:ip:x'),
        (error: unknown) =>
          error instanceof VerificationError &&
          error.code === 'TX_BAD_SIGNATURE' &&
          error.penalty > 0 &&
          reason.test(error.message),
      );
      assert.equal(mempool.stats.orphans, 0);
      assert.equal(mempool.stats.rejected['TX_BAD_SIGNATURE'], 1);
    });
  }

  it('refuses an orphan whose known input is signed by a key other than its lock', async () => {
    const { mempool, chain } = testMempool();
    const missingParent = spend([chain.fund(mallory, 100_000n)], 1_000n);
    const known = chain.fund(alice, 50_000n);
    // Input 0 is alice's coin (known) but mallory signs it; input 1's parent is unknown.
    const tx = spend([known, ...outputsOf(missingParent, mallory)], 1_000n, {
      signers: [mallory, mallory],
    });
    await assert.rejects(mempool.add(tx, 'peer', 'peer:m'), (error: unknown) => {
      return error instanceof VerificationError && error.code === 'TX_WRONG_KEY';
    });
    assert.equal(mempool.stats.orphans, 0);
  });
});

describe('orphan pool bounds per sender', () => {
  it('a sender past its share loses its own oldest orphans, never another sender’s', async () => {
    const { mempool, chain } = testMempool({ maxOrphansPerSource: 3, maxOrphans: 5 });
    const parent = spend([chain.fund(alice, 100_000n)], 1_000n);
    const honest = spend(outputsOf(parent, alice), 1_000n);
    assert.equal((await mempool.add(honest, 'local', 'api:sub:alice')).status, 'orphan');
    for (let i = 0; i < 20; i++) {
      const orphan = madeUpOrphan(mallory, testChainIdHash, i);
      assert.equal((await mempool.add(orphan, 'local', 'api:ip:10.0.0.9')).status, 'orphan');
    }
    assert.equal(mempool.stats.orphans, 4, 'alice 1 + mallory 3');
    assert.equal(mempool.stats.orphansSourceLimited, 17);
    assert.equal(mempool.stats.orphanSources, 2);
    assert.ok(mempool.hasOrphan(honest.txid));
    // Mallory's newest three are kept (oldest first out).
    for (let i = 17; i < 20; i++)
      assert.ok(mempool.hasOrphan(madeUpOrphan(mallory, testChainIdHash, i).txid));
    mempool.checkConsistency();
    const result = await mempool.add(parent);
    assert.equal(result.status === 'accepted' && result.resolvedOrphans.length, 1);
  });

  it('a full pool evicts from the sender holding the most, so many senders cannot flush one', async () => {
    const { mempool, chain } = testMempool({ maxOrphansPerSource: 4, maxOrphans: 6 });
    const parent = spend([chain.fund(alice, 100_000n)], 1_000n);
    const honest = spend(outputsOf(parent, alice), 1_000n);
    await mempool.add(honest, 'peer', 'peer:honest');
    // Six spamming peers, each under its own share, together over the pool's bound.
    let seed = 0;
    for (let round = 0; round < 4; round++)
      for (let peer = 0; peer < 6; peer++)
        await mempool.add(madeUpOrphan(mallory, testChainIdHash, seed++), 'peer', `peer:s${peer}`);
    assert.equal(mempool.stats.orphans, 6);
    assert.ok(mempool.hasOrphan(honest.txid), 'the sender holding one orphan keeps it');
    mempool.checkConsistency();
  });
});
