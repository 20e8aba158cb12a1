import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UtxodError } from '../util/errors.ts';
import { COIN_KEY_SIZE, COIN_VALUE_SIZE, CoinCache, CoinCacheError } from './coin-cache.ts';

// Mirrors the layout: 82-byte slot + 1 meta byte, plus two scratch slots.
const BYTES_PER_SLOT = COIN_KEY_SIZE + COIN_VALUE_SIZE + 1;
const SCRATCH = 2 * (COIN_KEY_SIZE + COIN_VALUE_SIZE);
const bytesFor = (slots: number) => SCRATCH + slots * BYTES_PER_SLOT;

/** Outpoint number i: a random-looking txid and a small vout. */
function key(i: number): Uint8Array {
  const k = new Uint8Array(COIN_KEY_SIZE);
  const view = new DataView(k.buffer);
  let x = i + 0x3c6ef372;
  for (let w = 0; w < 8; w++) {
    x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) + w;
    view.setInt32(w * 4, x ^ (x >>> 13), true);
  }
  view.setUint32(32, i % 3, true);
  return k;
}

function value(tag: number): Uint8Array {
  const v = new Uint8Array(COIN_VALUE_SIZE);
  new DataView(v.buffer).setUint32(0, tag, true);
  v.fill(tag & 0xff, 4);
  return v;
}

const isCacheError = (reason: string) => (e: unknown) =>
  e instanceof CoinCacheError && e instanceof UtxodError && e.reason === reason;

/** A cache whose table is already at its budget: the next inserts evict. */
function fullCache(slots: number): CoinCache {
  const maxLive = Math.floor(slots * 0.75);
  const cache = new CoinCache({ maxBytes: bytesFor(slots), initialCapacity: maxLive });
  assert.equal(cache.capacity, slots);
  return cache;
}

describe('CoinCache basics', () => {
  it('exports the fixed sizes', () => {
    assert.equal(COIN_KEY_SIZE, 36);
    assert.equal(COIN_VALUE_SIZE, 46);
  });

  it('sets, gets, overwrites and deletes', () => {
    const cache = new CoinCache({ maxBytes: 1 << 20 });
    assert.equal(cache.get(key(1)), undefined);
    cache.set(key(1), value(10));
    cache.set(key(2), value(20));
    assert.deepEqual(cache.get(key(1)), value(10));
    assert.equal(cache.size, 2);
    cache.set(key(1), value(11));
    assert.deepEqual(cache.get(key(1)), value(11));
    assert.equal(cache.size, 2);
    assert.equal(cache.delete(key(1)), true);
    assert.equal(cache.delete(key(1)), false);
    assert.equal(cache.get(key(1)), undefined);
    assert.deepEqual(cache.get(key(2)), value(20));
    assert.equal(cache.size, 1);
  });

  it('copies values in and out', () => {
    const cache = new CoinCache({ maxBytes: 1 << 20 });
    const v = value(7);
    cache.set(key(1), v);
    v.fill(0);
    const out = cache.get(key(1))!;
    assert.deepEqual(out, value(7));
    out.fill(0xff);
    assert.deepEqual(cache.get(key(1)), value(7));
  });

  it('compares whole keys: outpoints differing only in bytes the hash skips', () => {
    // Same txid[0..8] and vout: same home slot and fingerprint for all of them.
    const twins = Array.from({ length: 40 }, (_, i) => {
      const k = key(0);
      k[20] = i;
      return k;
    });
    const cache = new CoinCache({ maxBytes: 1 << 20 });
    for (const [i, k] of twins.entries()) cache.set(k, value(i));
    for (const [i, k] of twins.entries()) assert.deepEqual(cache.get(k), value(i));
    for (let i = 0; i < twins.length; i += 2) assert.equal(cache.delete(twins[i]!), true);
    for (const [i, k] of twins.entries()) {
      assert.deepEqual(cache.get(k), i % 2 === 0 ? undefined : value(i));
    }
    assert.equal(cache.size, 20);
  });

  it('keeps every entry through growth across many slab chunks', () => {
    const cache = new CoinCache({ maxBytes: 1 << 26 });
    const n = 20_000; // over 6 chunks of 4096 slots
    for (let i = 0; i < n; i++) cache.set(key(i), value(i));
    assert.ok(cache.capacity > 6 * 4096);
    // Buffer.equals: deepEqual on 20k arrays is slow.
    for (let i = 0; i < n; i++) assert.ok(Buffer.from(value(i)).equals(cache.get(key(i))!));
    for (let i = 0; i < n; i += 3) assert.equal(cache.delete(key(i)), true);
    for (let i = 0; i < n; i++) assert.equal(cache.has(key(i)), i % 3 !== 0);
    assert.equal(cache.size, n - Math.ceil(n / 3));
  });

  it('counts hits and misses on get only', () => {
    const cache = new CoinCache({ maxBytes: 1 << 20 });
    cache.set(key(1), value(1));
    cache.get(key(1));
    cache.get(key(1));
    cache.get(key(2));
    assert.equal(cache.has(key(1)), true);
    assert.equal(cache.has(key(2)), false);
    assert.deepEqual(cache.stats, { hits: 2, misses: 1, evictions: 0 });
  });

  it('clear empties the cache and gives memory back', () => {
    const cache = new CoinCache({ maxBytes: 1 << 24 });
    const initial = cache.allocatedBytes;
    for (let i = 0; i < 5000; i++) cache.set(key(i), value(i));
    assert.ok(cache.allocatedBytes > initial);
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(cache.allocatedBytes, initial);
    assert.equal(cache.get(key(3)), undefined);
    cache.set(key(3), value(3));
    assert.deepEqual(cache.get(key(3)), value(3));
  });

  it('makes room for initialCapacity entries up front, within the budget', () => {
    const cache = new CoinCache({ maxBytes: 1 << 24, initialCapacity: 3000 });
    const bytes = cache.allocatedBytes;
    for (let i = 0; i < 3000; i++) cache.set(key(i), value(i));
    assert.equal(cache.allocatedBytes, bytes);
    const clamped = new CoinCache({ maxBytes: 10_000, initialCapacity: 1_000_000 });
    assert.ok(clamped.allocatedBytes <= 10_000);
  });
});

describe('CoinCache misuse', () => {
  const cache = new CoinCache({ maxBytes: 1 << 20 });

  it('rejects keys that are not 36 bytes', () => {
    for (const bad of [new Uint8Array(35), new Uint8Array(37), new Uint8Array(0)]) {
      assert.throws(() => cache.get(bad), isCacheError('bad-key-length'));
      assert.throws(() => cache.has(bad), isCacheError('bad-key-length'));
      assert.throws(() => cache.delete(bad), isCacheError('bad-key-length'));
      assert.throws(() => cache.set(bad, value(1)), isCacheError('bad-key-length'));
    }
  });

  it('rejects values that are not 46 bytes, changing nothing', () => {
    assert.throws(() => cache.set(key(1), new Uint8Array(45)), isCacheError('bad-value-length'));
    assert.throws(() => cache.set(key(1), new Uint8Array(47)), isCacheError('bad-value-length'));
    assert.equal(cache.has(key(1)), false);
  });

  it('rejects a budget below the smallest table, and nonsense options', () => {
    assert.throws(() => new CoinCache({ maxBytes: bytesFor(8) - 1 }), isCacheError('bad-options'));
    assert.ok(new CoinCache({ maxBytes: bytesFor(8) }).allocatedBytes <= bytesFor(8));
    for (const maxBytes of [Number.NaN, 1.5e6 + 0.5, -1, Number.POSITIVE_INFINITY]) {
      assert.throws(() => new CoinCache({ maxBytes }), isCacheError('bad-options'));
    }
    assert.throws(
      () => new CoinCache({ maxBytes: 1 << 20, initialCapacity: -1 }),
      isCacheError('bad-options'),
    );
  });
});

describe('CoinCache memory', () => {
  it('stays within 150 bytes per entry while growing (past 1000 entries)', () => {
    const cache = new CoinCache({ maxBytes: 1 << 30 });
    let worst = 0;
    for (let i = 0; i < 60_000; i++) {
      cache.set(key(i), value(i));
      if (cache.size >= 1000) worst = Math.max(worst, cache.allocatedBytes / cache.size);
    }
    assert.ok(worst <= 150, `worst ${worst} bytes per entry`);
  });

  it('never holds more than maxBytes, and fills most of it before evicting', () => {
    // Budgets on both sides of a slab chunk (4096 slots, 336 KB).
    for (const maxBytes of [828, 1000, 5000, 50_000, 340_000, 400_000, 1_000_000, 3_000_000]) {
      const cache = new CoinCache({ maxBytes });
      let i = 0;
      while (cache.stats.evictions === 0) {
        cache.set(key(i++), value(i));
        assert.ok(cache.allocatedBytes <= maxBytes, `${cache.allocatedBytes} > ${maxBytes}`);
      }
      for (let j = 0; j < 2000; j++) {
        cache.set(key(i++), value(i));
        assert.ok(cache.allocatedBytes <= maxBytes, `${cache.allocatedBytes} > ${maxBytes}`);
        assert.ok(cache.size <= cache.capacity * 0.75);
      }
      // Growing holds the old meta array and the old partial chunk while
      // copying, and both count: below one chunk that is the whole old slab,
      // so small budgets end about half used; from ~1 MB up, nearly full.
      if (maxBytes >= 1_000_000) assert.ok(cache.allocatedBytes > 0.9 * maxBytes);
    }
  });
});

describe('CoinCache eviction', () => {
  it('evicts entries nobody read before entries read since the last pass', () => {
    for (const refresh of ['get', 'overwrite'] as const) {
      const cache = fullCache(400);
      const maxLive = cache.capacity * 0.75;
      for (let i = 0; i < maxLive; i++) cache.set(key(i), value(i));
      const hot = 100;
      // Before each insert the hot entries are used again, so each eviction
      // must find an unreferenced entry, and there always is one: the cold
      // originals and the fresh inserts are never read.
      for (let n = 0; n < 250; n++) {
        for (let i = 0; i < hot; i++) {
          if (refresh === 'get') cache.get(key(i));
          else cache.set(key(i), value(i + 1000));
        }
        cache.set(key(10_000 + n), value(n));
      }
      assert.equal(cache.stats.evictions, 250);
      for (let i = 0; i < hot; i++) assert.ok(cache.has(key(i)), `${refresh}: hot ${i} evicted`);
      let coldLeft = 0;
      for (let i = hot; i < maxLive; i++) if (cache.has(key(i))) coldLeft++;
      let freshLeft = 0;
      for (let n = 0; n < 250; n++) if (cache.has(key(10_000 + n))) freshLeft++;
      assert.equal(coldLeft + freshLeft, maxLive - hot);
      assert.ok(coldLeft < maxLive - hot);
    }
  });

  it('has() is not a use: it does not protect an entry', () => {
    const cache = fullCache(40);
    for (let i = 0; i < 30; i++) cache.set(key(i), value(i));
    // Everything but key(0) is read; key(0) is only probed with has().
    for (let i = 1; i < 30; i++) cache.get(key(i));
    assert.equal(cache.has(key(0)), true);
    cache.set(key(100), value(100));
    assert.equal(cache.has(key(0)), false);
    assert.equal(cache.stats.evictions, 1);
  });

  it('never returns a stale or foreign value, and counts every eviction', () => {
    const cache = fullCache(64);
    const current = new Map<number, number>();
    let inserted = 0;
    let deleted = 0;
    let x = 1;
    for (let step = 0; step < 20_000; step++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const k = (x >>> 8) % 300;
      const op = x % 10;
      if (op < 5) {
        if (!cache.has(key(k))) inserted++;
        cache.set(key(k), value(step));
        current.set(k, step);
      } else if (op < 7) {
        if (cache.delete(key(k))) {
          assert.ok(current.has(k));
          deleted++;
        }
        current.delete(k);
      } else {
        const got = cache.get(key(k));
        const want = current.get(k);
        if (got !== undefined) assert.deepEqual(got, value(want ?? -1));
      }
      assert.ok(cache.allocatedBytes <= bytesFor(64));
    }
    assert.equal(inserted, cache.size + cache.stats.evictions + deleted);
  });
});

describe('CoinCache deletion churn', () => {
  it('a full table keeps its size and finite probes under insert/delete churn', () => {
    const cache = fullCache(256);
    const live: number[] = [];
    let next = 0;
    while (cache.stats.evictions === 0) {
      cache.set(key(next), value(next));
      live.push(next++);
    }
    const bytes = cache.allocatedBytes;
    for (let round = 0; round < 20_000; round++) {
      cache.set(key(next), value(next));
      live.push(next++);
      const victim = live.splice((round * 7919) % live.length, 1)[0]!;
      cache.delete(key(victim));
      assert.equal(cache.get(key(1_000_000 + round)), undefined);
    }
    assert.equal(cache.allocatedBytes, bytes);
    assert.ok(cache.size <= 192);
  });

  it('repeatedly filling and emptying does not grow the table', () => {
    const cache = new CoinCache({ maxBytes: 1 << 24 });
    let capacity = 0;
    for (let round = 0; round < 100; round++) {
      const base = round * 1000;
      for (let i = 0; i < 1000; i++) cache.set(key(base + i), value(i));
      for (let i = 0; i < 1000; i += 2) assert.equal(cache.delete(key(base + i)), true);
      for (let i = 1; i < 1000; i += 2) assert.deepEqual(cache.get(key(base + i)), value(i));
      for (let i = 1; i < 1000; i += 2) assert.equal(cache.delete(key(base + i)), true);
      assert.equal(cache.size, 0);
      if (round === 0) capacity = cache.capacity;
      assert.equal(cache.capacity, capacity);
    }
    assert.equal(cache.stats.evictions, 0);
  });
});
