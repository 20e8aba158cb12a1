import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  MemoryChain,
  outputsOf,
  realBatchVerifier,
  spend,
  TestKey,
  testBlock,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import { VerificationError } from '../consensus/errors.ts';
import { Transaction, TX_VERSION } from '../primitives/transaction.ts';
import { MempoolError, MempoolOptionsError } from './errors.ts';
import type { AdmissionResult } from './types.ts';

const alice = new TestKey(1);
const bob = new TestKey(2);

/** Size of a spend shape, independent of its fee (amounts are fixed width). */
function sizeOf(outputs = 1, inputs = 1): number {
  const chain = new MemoryChain();
  const coins = Array.from({ length: inputs }, () => chain.fund(alice, 1_000_000n));
  return spend(coins, 0n, { outputs }).size;
}

async function rejects(
  promise: Promise<unknown>,
  code: string,
): Promise<MempoolError | VerificationError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof MempoolError || error instanceof VerificationError,
      `unexpected ${String(error)}`,
    );
    assert.equal(error.code, code, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

function accepted(result: AdmissionResult): Extract<AdmissionResult, { status: 'accepted' }> {
  assert.equal(result.status, 'accepted');
  return result as Extract<AdmissionResult, { status: 'accepted' }>;
}

describe('mempool: admission', () => {
  it('accepts a signed spend of a chain coin and indexes it', async () => {
    const { mempool, chain, cache } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    const tx = spend([coin], 1000n);
    const result = accepted(await mempool.add(tx));
    assert.equal(result.fee, 1000n);
    assert.deepEqual(result.replaced, []);
    assert.ok(mempool.has(tx.txid));
    assert.equal(mempool.size, 1);
    assert.equal(mempool.bytes, tx.size);
    assert.equal(mempool.spenderOf(coin.outpoint)?.tx, tx);
    const entry = mempool.get(tx.txid)!;
    assert.equal(entry.fee, 1000n);
    assert.equal(entry.feeRate, (1000n * 1000n) / BigInt(tx.size));
    assert.equal([...mempool.entries()].length, 1);
    assert.equal(mempool.stats.accepted, 1);
    // Verified once here, remembered for block connect.
    assert.equal(cache.size, 1);
    mempool.checkConsistency();
  });

  it('validates its options', () => {
    assert.throws(() => testMempool({ maxBytes: 0 }), MempoolOptionsError);
    assert.throws(() => testMempool({ minRelayFeeRate: -1n }), MempoolOptionsError);
    assert.throws(() => testMempool({ maxAncestors: 1.5 }), MempoolOptionsError);
    assert.equal(testMempool({}).mempool.options.maxReplacements, 100);
  });

  it('rejects a spend of a coin the chain just spent, rather than holding it as an orphan', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    accepted(await mempool.add(spend([coin], 1000n)));
    // A block spent the coin; the pool has not been told yet.
    chain.coins.clear();
    await rejects(mempool.add(spend([coin], 5000n, { to: bob })), 'TX_INPUT_MISSING');
    assert.equal(mempool.stats.orphans, 0);
  });

  it('rejects a coinbase with a full penalty', async () => {
    const { mempool } = testMempool();
    const coinbase = new Transaction({
      version: TX_VERSION,
      inputs: [],
      outputs: [{ amount: 1n, lock: alice.lock }],
      lockTime: 0,
      payload: null,
      witnesses: [],
    });
    const error = await rejects(mempool.add(coinbase), 'MEMPOOL_COINBASE');
    assert.equal(error.penalty, 100);
    assert.equal(mempool.stats.rejected['MEMPOOL_COINBASE'], 1);
  });

  it('propagates stateless consensus errors as VerificationError', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    const error = await rejects(mempool.add(spend([coin, coin], 1000n)), 'TX_DUPLICATE_INPUT');
    assert.ok(error instanceof VerificationError);
    assert.equal(error.penalty, 100);
  });

  it('rejects a transaction it already has', async () => {
    const { mempool, chain } = testMempool();
    const tx = spend([chain.fund(alice, 10_000n)], 1000n);
    await mempool.add(tx);
    await rejects(mempool.add(tx), 'MEMPOOL_ALREADY_KNOWN');
    // Same txid with other signatures (txid excludes witnesses): the same spend.
    const resigned = tx.withWitnesses([{ ...tx.witnesses[0]!, signature: new Uint8Array(64) }]);
    await rejects(mempool.add(resigned), 'MEMPOOL_ALREADY_KNOWN');
  });

  it('rejects a spend by the wrong key', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    const error = await rejects(
      mempool.add(spend([coin], 1000n, { signers: [bob] })),
      'TX_WRONG_KEY',
    );
    assert.equal(error.penalty, 100);
    assert.equal(mempool.size, 0);
  });

  it('rejects bad signatures: over other amounts, or altered', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    // Signed believing the coin holds less: the sighash commits to spent amounts.
    const lied = spend([coin], 1000n, { signedAmounts: [9_000n] });
    await rejects(mempool.add(lied), 'TX_BAD_SIGNATURE');
    const good = spend([coin], 1000n);
    const signature = good.witnesses[0]!.signature.slice();
    signature[10] = signature[10]! ^ 1;
    const altered = good.withWitnesses([{ publicKey: alice.publicKey, signature }]);
    await rejects(mempool.add(altered), 'TX_BAD_SIGNATURE');
    assert.equal(mempool.stats.rejected['TX_BAD_SIGNATURE'], 2);
    assert.equal(mempool.size, 0);
    accepted(await mempool.add(good));
  });

  it('rejects an immature coinbase spend and accepts it once mature', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n, { coinbase: true, height: chain.tipHeight });
    const tx = spend([coin], 1000n);
    await rejects(mempool.add(tx), 'TX_IMMATURE_SPEND');
    chain.tipHeight += 9; // next block is coinbase height + maturity (10)
    accepted(await mempool.add(tx));
  });

  it('rejects a lock time beyond the next block', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    await rejects(
      mempool.add(spend([coin], 1000n, { lockTime: chain.tipHeight + 2 })),
      'TX_NOT_FINAL',
    );
    accepted(await mempool.add(spend([coin], 1000n, { lockTime: chain.tipHeight + 1 })));
  });

  it('rejects outputs above inputs', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 10_000n);
    await rejects(mempool.add(spend([coin], -1n)), 'TX_INPUTS_BELOW_OUTPUTS');
  });

  it('requires the minimum relay fee rate, exactly', async () => {
    const { mempool, chain } = testMempool({ minRelayFeeRate: 1000n });
    const coin = chain.fund(alice, 10_000n);
    const size = BigInt(sizeOf());
    await rejects(mempool.add(spend([coin], size - 1n)), 'MEMPOOL_FEE_TOO_LOW');
    accepted(await mempool.add(spend([coin], size)));
  });

  it('rejects non-standard sizes', async () => {
    const { mempool, chain } = testMempool({ maxStandardTxBytes: sizeOf(1) });
    await rejects(
      mempool.add(spend([chain.fund(alice, 10_000n)], 1000n, { outputs: 2 })),
      'MEMPOOL_NONSTANDARD',
    );
    accepted(await mempool.add(spend([chain.fund(alice, 10_000n)], 1000n)));
  });

  it('accepts chains of unconfirmed transactions and links them', async () => {
    const { mempool, chain } = testMempool();
    const a = spend([chain.fund(alice, 100_000n)], 1000n, { outputs: 2 });
    const b = spend([outputsOf(a, alice)[0]!], 2000n);
    const c = spend([outputsOf(b, alice)[0]!, outputsOf(a, alice)[1]!], 3000n);
    for (const tx of [a, b, c]) accepted(await mempool.add(tx));
    const ea = mempool.get(a.txid)!;
    const eb = mempool.get(b.txid)!;
    const ec = mempool.get(c.txid)!;
    assert.deepEqual([...ea.children], [eb, ec]);
    assert.deepEqual([...ec.parents], [eb, ea]);
    assert.equal(ea.descendantCount, 3);
    assert.equal(ea.descendantFees, 6000n);
    assert.equal(ea.descendantSize, a.size + b.size + c.size);
    assert.equal(eb.descendantCount, 2);
    assert.equal(mempool.spenderOf({ txid: a.txid, index: 1 })?.tx, c);
    mempool.checkConsistency();
  });

  it('enforces the ancestor limit', async () => {
    const { mempool, chain } = testMempool({ maxAncestors: 3 });
    let previous = chain.fund(alice, 100_000n);
    const txs = [];
    for (let i = 0; i < 4; i++) {
      const tx = spend([previous], 1000n);
      txs.push(tx);
      previous = outputsOf(tx, alice)[0]!;
    }
    for (const tx of txs.slice(0, 3)) accepted(await mempool.add(tx));
    await rejects(mempool.add(txs[3]!), 'MEMPOOL_TOO_MANY_ANCESTORS');
  });

  it('enforces the descendant limit', async () => {
    const { mempool, chain } = testMempool({ maxDescendants: 3 });
    const parent = spend([chain.fund(alice, 100_000n)], 1000n, { outputs: 3 });
    const [o0, o1, o2] = outputsOf(parent, alice);
    accepted(await mempool.add(parent));
    accepted(await mempool.add(spend([o0!], 1000n)));
    accepted(await mempool.add(spend([o1!], 1000n)));
    await rejects(mempool.add(spend([o2!], 1000n)), 'MEMPOOL_TOO_MANY_DESCENDANTS');
  });

  it('rejects a spend of an output its pool parent does not have', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    accepted(await mempool.add(parent));
    const ghost = { outpoint: { txid: parent.txid, index: 5 }, amount: 1000n, key: alice };
    await rejects(mempool.add(spend([ghost], 500n)), 'TX_INPUT_MISSING');
    assert.equal(mempool.stats.orphans, 0);
  });
});

describe('mempool: replace-by-fee', () => {
  it('rejects a double spend that does not pay enough', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    const size = BigInt(sizeOf());
    accepted(await mempool.add(spend([coin], 1000n)));
    // Same fee: not strictly more.
    await rejects(mempool.add(spend([coin], 1000n, { to: bob })), 'MEMPOOL_REPLACEMENT_REJECTED');
    // More, but not by the relay fee of its own size.
    await rejects(mempool.add(spend([coin], 1000n + size - 1n)), 'MEMPOOL_REPLACEMENT_REJECTED');
    assert.equal(mempool.stats.rejected['MEMPOOL_REPLACEMENT_REJECTED'], 2);
    accepted(await mempool.add(spend([coin], 1000n + size)));
    assert.equal(mempool.size, 1);
    assert.equal(mempool.stats.replaced, 1);
  });

  it('rejects a replacement with a higher fee but a lower fee rate', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 1_000_000n);
    accepted(await mempool.add(spend([coin], 10_000n)));
    const big = spend([coin], 11_000n, { outputs: 20 });
    assert.ok(big.size < 1000);
    const error = await rejects(mempool.add(big), 'MEMPOOL_REPLACEMENT_REJECTED');
    assert.match(error.message, /fee rate/);
  });

  it('replaces a conflict and evicts its descendants', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    const original = spend([coin], 1000n, { outputs: 2 });
    const child = spend([outputsOf(original, alice)[0]!], 1000n);
    const grandchild = spend([outputsOf(child, alice)[0]!, outputsOf(original, alice)[1]!], 1000n);
    for (const tx of [original, child, grandchild]) accepted(await mempool.add(tx));
    const replacement = spend([coin], 3000n + BigInt(sizeOf()), { to: bob });
    const result = accepted(await mempool.add(replacement));
    assert.deepEqual(
      result.replaced.map((tx) => tx.txid),
      [grandchild.txid, child.txid, original.txid],
    );
    assert.equal(mempool.size, 1);
    assert.equal(mempool.spenderOf(coin.outpoint)?.tx, replacement);
    assert.equal(mempool.spenderOf({ txid: original.txid, index: 0 }), undefined);
    assert.equal(mempool.stats.replaced, 3);
    mempool.checkConsistency();
  });

  it('rejects a replacement that would evict more than maxReplacements', async () => {
    const { mempool, chain } = testMempool({ maxReplacements: 2 });
    const coin = chain.fund(alice, 100_000n);
    const original = spend([coin], 1000n, { outputs: 2 });
    accepted(await mempool.add(original));
    for (const output of outputsOf(original, alice))
      accepted(await mempool.add(spend([output], 1000n)));
    await rejects(
      mempool.add(spend([coin], 50_000n, { to: bob })),
      'MEMPOOL_TOO_MANY_REPLACEMENTS',
    );
    assert.equal(mempool.size, 3);
  });

  it('rejects a replacement that spends what it replaces', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    const other = chain.fund(alice, 100_000n);
    const original = spend([coin, other], 1000n, { outputs: 2 });
    accepted(await mempool.add(original));
    const replacement = spend([other, outputsOf(original, alice)[1]!], 20_000n);
    const error = await rejects(mempool.add(replacement), 'MEMPOOL_REPLACEMENT_REJECTED');
    assert.match(error.message, /replaces/);
  });

  it('rejects a replacement that adds a new unconfirmed input', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    accepted(await mempool.add(spend([coin], 1000n)));
    const unrelated = spend([chain.fund(bob, 100_000n)], 1000n);
    accepted(await mempool.add(unrelated));
    const replacement = spend([coin, outputsOf(unrelated, bob)[0]!], 20_000n);
    const error = await rejects(mempool.add(replacement), 'MEMPOOL_REPLACEMENT_REJECTED');
    assert.match(error.message, /unconfirmed input/);
  });

  it('decides two concurrent double spends in arrival order', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    const first = spend([coin], 1000n);
    const second = spend([coin], 1000n, { to: bob });
    const [a, b] = await Promise.allSettled([mempool.add(first), mempool.add(second)]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    assert.equal((b as PromiseRejectedResult).reason.code, 'MEMPOOL_REPLACEMENT_REJECTED');
    assert.equal(mempool.spenderOf(coin.outpoint)?.tx, first);
    mempool.checkConsistency();
  });
});

describe('mempool: orphans', () => {
  it('holds orphans until their parent arrives, then admits them in cascade', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    const child = spend([outputsOf(parent, alice)[0]!], 1000n);
    const grandchild = spend([outputsOf(child, alice)[0]!], 1000n);
    const asOrphan = await mempool.add(grandchild);
    assert.equal(asOrphan.status, 'orphan');
    assert.deepEqual(asOrphan.status === 'orphan' && asOrphan.missingParents, [child.txid]);
    assert.equal((await mempool.add(child)).status, 'orphan');
    assert.ok(mempool.hasOrphan(child.txid));
    await rejects(mempool.add(child), 'MEMPOOL_ALREADY_KNOWN');
    assert.equal(mempool.stats.orphans, 2);
    const result = accepted(await mempool.add(parent));
    assert.deepEqual(
      result.resolvedOrphans.map((tx) => tx.txid),
      [child.txid, grandchild.txid],
    );
    assert.equal(mempool.size, 3);
    assert.equal(mempool.stats.orphans, 0);
    mempool.checkConsistency();
  });

  it('reports a transaction already confirmed as known, not as an orphan', async () => {
    const { mempool, chain } = testMempool();
    const tx = spend([chain.fund(alice, 100_000n)], 1000n);
    chain.connect([tx]);
    await rejects(mempool.add(tx), 'MEMPOOL_ALREADY_KNOWN');
    assert.equal(mempool.stats.orphans, 0);
  });

  it('bounds the orphan pool by count, dropping the oldest', async () => {
    const { mempool } = testMempool({ maxOrphans: 3 });
    const chain = new MemoryChain(); // parents exist nowhere the pool can see
    const orphans = Array.from({ length: 5 }, () => spend([chain.fund(alice, 10_000n)], 1000n));
    for (const tx of orphans) assert.equal((await mempool.add(tx)).status, 'orphan');
    assert.equal(mempool.stats.orphans, 3);
    assert.equal(mempool.stats.orphansDropped, 2);
    assert.deepEqual(
      orphans.map((tx) => mempool.hasOrphan(tx.txid)),
      [false, false, true, true, true],
    );
    mempool.checkConsistency();
  });

  it('bounds the orphan pool by bytes and caps the size of one orphan', async () => {
    const size = sizeOf();
    const { mempool } = testMempool({ maxOrphanBytes: 2 * size + 1, maxOrphanTxBytes: size });
    const chain = new MemoryChain();
    for (let i = 0; i < 4; i++) await mempool.add(spend([chain.fund(alice, 10_000n)], 1000n));
    assert.equal(mempool.stats.orphans, 2);
    assert.equal(mempool.stats.orphanBytes, 2 * size);
    const large = spend([chain.fund(alice, 10_000n)], 1000n, { outputs: 2 });
    await rejects(mempool.add(large), 'MEMPOOL_ORPHAN_TOO_LARGE');
  });

  it('expires orphans', async () => {
    const { mempool, clock } = testMempool({ orphanExpiryMs: 60_000 });
    const chain = new MemoryChain();
    await mempool.add(spend([chain.fund(alice, 10_000n)], 1000n));
    clock.now += 30_000;
    await mempool.add(spend([chain.fund(alice, 10_000n)], 1000n));
    clock.now += 30_001;
    mempool.expire();
    assert.equal(mempool.stats.orphans, 1);
  });
});

describe('mempool: eviction when full', () => {
  it('evicts the lowest fee rate, raises the floor, and rejects what would not stay', async () => {
    const size = sizeOf();
    const { mempool, chain, clock } = testMempool({ maxBytes: 3 * size + 10 });
    const txs = [1000n, 2000n, 3000n, 4000n].map((fee) =>
      spend([chain.fund(alice, 100_000n)], fee),
    );
    for (const tx of txs.slice(0, 3)) accepted(await mempool.add(tx));
    accepted(await mempool.add(txs[3]!));
    assert.equal(mempool.has(txs[0]!.txid), false);
    assert.equal(mempool.size, 3);
    assert.equal(mempool.stats.evicted, 1);
    assert.ok(mempool.bytes <= 3 * size + 10);
    // The floor: what left (1000 for `size` bytes, rounded up) plus the relay rate.
    const floor = (1000n * 1000n + BigInt(size) - 1n) / BigInt(size) + 1000n;
    assert.equal(mempool.minFeeRate, floor);
    const belowFloor = spend([chain.fund(alice, 100_000n)], (floor * BigInt(size)) / 1000n - 1n);
    await rejects(mempool.add(belowFloor), 'MEMPOOL_FEE_TOO_LOW');
    // Above the floor, but still the cheapest: in and straight out again.
    const cheapest = spend([chain.fund(alice, 100_000n)], 1500n);
    await rejects(mempool.add(cheapest), 'MEMPOOL_FULL');
    assert.equal(mempool.has(cheapest.txid), false);
    assert.equal(mempool.size, 3);
    mempool.checkConsistency();
    // The floor decays (halving per 12 h while the pool is full) back to the relay minimum.
    clock.now += 12 * 60 * 60 * 1000;
    assert.ok(mempool.minFeeRate < floor);
    clock.now += 10 * 12 * 60 * 60 * 1000;
    assert.equal(mempool.minFeeRate, 1000n);
  });

  it('keeps a cheap parent whose child pays for it (descendant score)', async () => {
    const size = sizeOf();
    const { mempool, chain } = testMempool({ maxBytes: 3 * size + 10 });
    const parent = spend([chain.fund(alice, 100_000n)], BigInt(size));
    const child = spend([outputsOf(parent, alice)[0]!], 5000n);
    const middle = spend([chain.fund(alice, 100_000n)], 1000n);
    for (const tx of [parent, child, middle]) accepted(await mempool.add(tx));
    accepted(await mempool.add(spend([chain.fund(alice, 100_000n)], 2000n)));
    assert.equal(mempool.has(middle.txid), false);
    assert.ok(mempool.has(parent.txid) && mempool.has(child.txid));
    mempool.checkConsistency();
  });

  it('evicts a parent together with its descendants', async () => {
    const size = sizeOf();
    const { mempool, chain } = testMempool({ maxBytes: 3 * size + 10 });
    const parent = spend([chain.fund(alice, 100_000n)], BigInt(size));
    // Its package (parent + child) scores below the child alone: both go together.
    const child = spend([outputsOf(parent, alice)[0]!], (3n * BigInt(size)) / 2n);
    for (const tx of [parent, child]) accepted(await mempool.add(tx));
    accepted(await mempool.add(spend([chain.fund(alice, 100_000n)], 2000n)));
    accepted(await mempool.add(spend([chain.fund(alice, 100_000n)], 3000n)));
    assert.equal(mempool.size, 2);
    assert.equal(mempool.stats.evicted, 2);
    mempool.checkConsistency();
  });
});

describe('mempool: blocks and expiry', () => {
  it('removes confirmed entries and keeps their children', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    const child = spend([outputsOf(parent, alice)[0]!], 1000n);
    for (const tx of [parent, child]) accepted(await mempool.add(tx));
    const result = await mempool.removeForBlock(chain.connect([parent]));
    assert.equal(result.confirmed, 1);
    assert.equal(mempool.size, 1);
    const entry = mempool.get(child.txid)!;
    assert.equal(entry.parents.size, 0);
    assert.equal(mempool.stats.confirmed, 1);
    mempool.checkConsistency();
    // The child now spends a confirmed coin: a replacement resolves it from the chain.
    const replacement = spend([outputsOf(parent, alice)[0]!], 1000n + BigInt(2 * child.size));
    accepted(await mempool.add(replacement));
  });

  it('removes entries the block double-spends, with their descendants', async () => {
    const { mempool, chain } = testMempool();
    const coin = chain.fund(alice, 100_000n);
    const ours = spend([coin], 1000n);
    const descendant = spend([outputsOf(ours, alice)[0]!], 1000n);
    const unrelated = spend([chain.fund(bob, 100_000n)], 1000n);
    for (const tx of [ours, descendant, unrelated]) accepted(await mempool.add(tx));
    const theirs = spend([coin], 500n, { to: bob });
    const result = await mempool.removeForBlock(chain.connect([theirs]));
    assert.deepEqual(result, { confirmed: 0, conflicted: 2, resolvedOrphans: [] });
    assert.deepEqual(
      [...mempool.entries()].map((e) => e.tx),
      [unrelated],
    );
    mempool.checkConsistency();
  });

  it('admits orphans a block completes and drops those it double-spends', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 1000n, { outputs: 2 });
    const waiting = spend([outputsOf(parent, alice)[0]!], 1000n);
    const coin = chain.fund(bob, 100_000n);
    const doomed = spend([outputsOf(parent, alice)[1]!, coin], 1000n);
    assert.equal((await mempool.add(waiting)).status, 'orphan');
    assert.equal((await mempool.add(doomed)).status, 'orphan');
    const result = await mempool.removeForBlock(chain.connect([parent, spend([coin], 500n)]));
    assert.deepEqual(
      result.resolvedOrphans.map((tx) => tx.txid),
      [waiting.txid],
    );
    assert.ok(mempool.has(waiting.txid));
    assert.equal(mempool.stats.orphans, 0);
    mempool.checkConsistency();
  });

  it('re-checks lock times only if the height goes backwards', async () => {
    const { mempool, chain } = testMempool();
    const tx = spend([chain.fund(alice, 10_000n)], 1000n, { lockTime: chain.tipHeight + 1 });
    accepted(await mempool.add(tx));
    await mempool.removeForBlock(testBlock(chain.tipHeight, []));
    assert.ok(mempool.has(tx.txid));
    await mempool.removeForBlock(testBlock(chain.tipHeight - 1, []));
    assert.equal(mempool.has(tx.txid), false);
  });

  it('removes a transaction with its descendants, and clears everything, on operator request', async () => {
    const { mempool, chain } = testMempool();
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    accepted(await mempool.add(parent));
    const child = spend([outputsOf(parent, alice)[0]!], 1000n);
    const unrelated = spend([chain.fund(bob, 100_000n)], 1000n);
    for (const tx of [child, unrelated]) accepted(await mempool.add(tx));
    assert.equal(mempool.remove(new Uint8Array(32)), 0, 'unknown txid');
    assert.equal(mempool.remove(parent.txid), 2);
    assert.deepEqual(
      [...mempool.entries()].map((e) => e.tx),
      [unrelated],
    );
    mempool.checkConsistency();
    accepted(await mempool.add(parent)); // a removed transaction may come back
    assert.equal(mempool.clear(), 2);
    assert.equal(mempool.size, 0);
    assert.equal(mempool.bytes, 0);
    mempool.checkConsistency();
  });

  it('expires old entries with their descendants', async () => {
    const day = 24 * 60 * 60 * 1000;
    const { mempool, chain, clock } = testMempool({ expiryMs: 14 * day });
    const old = spend([chain.fund(alice, 100_000n)], 1000n);
    accepted(await mempool.add(old));
    clock.now += 13 * day;
    const young = spend([outputsOf(old, alice)[0]!], 1000n);
    const unrelated = spend([chain.fund(bob, 100_000n)], 1000n);
    for (const tx of [young, unrelated]) accepted(await mempool.add(tx));
    assert.equal(mempool.expire(), 0);
    clock.now += day + 1;
    assert.equal(mempool.expire(), 2);
    assert.deepEqual(
      [...mempool.entries()].map((e) => e.tx),
      [unrelated],
    );
    assert.equal(mempool.stats.expired, 2);
    mempool.checkConsistency();
  });

  it('re-plans an admission when entries expire while its signatures are checked', async () => {
    const day = 24 * 60 * 60 * 1000;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holding = false;
    const inner = realBatchVerifier();
    const verifier = {
      verifyBatch: async (jobs: Parameters<typeof inner.verifyBatch>[0]) => {
        if (holding) await gate;
        return inner.verifyBatch(jobs);
      },
    };
    const { mempool, chain, clock } = testMempool({ expiryMs: day }, { verifier });
    const parent = spend([chain.fund(alice, 100_000n)], 1000n);
    accepted(await mempool.add(parent));
    clock.now += day + 1;
    holding = true;
    const pending = mempool.add(spend([outputsOf(parent, alice)[0]!], 1000n));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(mempool.expire(), 1); // the parent leaves mid-admission
    release();
    const result = await pending;
    assert.equal(result.status, 'orphan');
    assert.equal(mempool.size, 0);
    mempool.checkConsistency();
  });
});
