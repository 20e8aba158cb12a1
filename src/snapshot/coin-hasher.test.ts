import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MuHash3072, sha256 } from '../crypto/index.ts';
import { CoinHasher, defaultHashWorkers, MIN_COINS_FOR_WORKERS } from './coin-hasher.ts';

const SIZE = 82;

/** `count` distinct pseudo-random elements packed one after the other. */
function elements(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count * SIZE);
  for (let i = 0; i < count; i++) {
    const h = sha256(Uint8Array.of(seed, i & 0xff, i >> 8));
    out.set(h, i * SIZE);
    out.set(h, i * SIZE + 40);
  }
  return out;
}

describe('CoinHasher', () => {
  it('partials from workers multiply to the MuHash of the whole set, in any split', async () => {
    const parts = [elements(300, 1), elements(1, 2), elements(57, 3), elements(200, 4)];
    const whole = new MuHash3072();
    for (const part of parts)
      for (let at = 0; at < part.length; at += SIZE) whole.insert(part.subarray(at, at + SIZE));
    const hasher = new CoinHasher(2);
    try {
      // Wait until the workers are up so that the partials really come from them.
      const deadline = Date.now() + 60_000;
      while (!hasher.workersReady() && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.ok(hasher.workersReady(), 'workers started');
      const total = new MuHash3072();
      // A view into a larger buffer is copied before it is transferred; the source stays usable.
      const big = new Uint8Array(parts[3]!.length + 10);
      big.set(parts[3]!, 5);
      const view = big.subarray(5, 5 + parts[3]!.length);
      const partials = await Promise.all([
        hasher.hash(parts[0]!.slice(), SIZE),
        hasher.hash(parts[1]!.slice(), SIZE),
        hasher.hash(parts[2]!.slice(), SIZE),
        hasher.hash(view, SIZE),
      ]);
      assert.equal(big.length, parts[3]!.length + 10);
      for (const p of partials) total.combine(p);
      assert.deepEqual(total.finalize(), whole.finalize());
      // Not the empty set: a lost partial would show.
      assert.notDeepEqual(total.finalize(), new MuHash3072().finalize());
    } finally {
      await hasher.close();
    }
  });

  it('with no worker (or none loaded yet) the calling thread hashes', async () => {
    const part = elements(10, 9);
    const expected = new MuHash3072();
    for (let at = 0; at < part.length; at += SIZE) expected.insert(part.subarray(at, at + SIZE));
    const hasher = new CoinHasher(0);
    assert.deepEqual((await hasher.hash(part, SIZE)).finalize(), expected.finalize());
    await hasher.close();
  });

  it('small snapshots get no workers', () => {
    assert.equal(defaultHashWorkers(MIN_COINS_FOR_WORKERS - 1n), 0);
    assert.ok(defaultHashWorkers(MIN_COINS_FOR_WORKERS) >= 1);
  });
});
