import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { COIN_KEY_SIZE, COIN_VALUE_SIZE, CoinCache } from './coin-cache.ts';

type Op =
  | { kind: 'set'; k: number; v: number }
  | { kind: 'get' | 'has' | 'delete'; k: number }
  | { kind: 'clear' };

const KEYS = 160;

/**
 * Key number k. Even k are random-looking outpoints; odd k fall in 8 groups
 * that share txid[0..8] and vout (all the hash reads), so each group collides
 * on home slot and fingerprint and only the full key compare separates them.
 */
function key(k: number): Uint8Array {
  const out = new Uint8Array(COIN_KEY_SIZE);
  const view = new DataView(out.buffer);
  let x = (k % 2 === 0 ? k : k % 16) + 0x1b873593;
  for (let w = 0; w < 8; w++) {
    x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) + w;
    view.setInt32(w * 4, x ^ (x >>> 13), true);
  }
  view.setUint32(32, k % 2 === 0 ? k % 5 : 1, true);
  out[20] = k;
  return out;
}

function value(v: number): Uint8Array {
  const out = new Uint8Array(COIN_VALUE_SIZE);
  new DataView(out.buffer).setUint32(0, v, true);
  out[45] = v & 0xff;
  return out;
}

const keys = Array.from({ length: KEYS }, (_, k) => key(k));

const op = (keySpace: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('set' as const),
        k: fc.nat(keySpace - 1),
        v: fc.nat(),
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('get' as const), k: fc.nat(keySpace - 1) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('has' as const), k: fc.nat(keySpace - 1) }),
    },
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('delete' as const), k: fc.nat(keySpace - 1) }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  );

const hex = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : Buffer.from(bytes).toString('hex');

describe('CoinCache against a Map model', () => {
  it('behaves exactly like a Map when nothing is evicted (growth, shifts, clears)', () => {
    fc.assert(
      fc.property(fc.array(op(KEYS), { maxLength: 600 }), fc.nat(200), (ops, initialCapacity) => {
        const cache = new CoinCache({ maxBytes: 1 << 20, initialCapacity });
        const model = new Map<string, string>();
        let hits = 0;
        let misses = 0;
        for (const o of ops) {
          if (o.kind === 'clear') {
            cache.clear();
            model.clear();
            continue;
          }
          const k = keys[o.k]!;
          const mk = hex(k)!;
          switch (o.kind) {
            case 'set':
              cache.set(k, value(o.v));
              model.set(mk, hex(value(o.v))!);
              break;
            case 'get': {
              const want = model.get(mk);
              if (want === undefined) misses++;
              else hits++;
              assert.equal(hex(cache.get(k)), want);
              break;
            }
            case 'has':
              assert.equal(cache.has(k), model.has(mk));
              break;
            case 'delete':
              assert.equal(cache.delete(k), model.delete(mk));
              break;
          }
          assert.equal(cache.size, model.size);
        }
        for (let i = 0; i < KEYS; i++) {
          assert.equal(hex(cache.get(keys[i]!)), model.get(hex(keys[i]!)!));
        }
        assert.deepEqual(cache.stats, {
          hits: hits + model.size,
          misses: misses + KEYS - model.size,
          evictions: 0,
        });
      }),
    );
  });

  it('under a small budget: within maxBytes, and every value returned is the last one set', () => {
    fc.assert(
      fc.property(
        fc.array(op(KEYS), { maxLength: 800 }),
        fc.integer({ min: 828, max: 12_000 }),
        (ops, maxBytes) => {
          const cache = new CoinCache({ maxBytes });
          // Last value set per key since its last delete/clear; the cache may
          // have dropped any of them, but must never return anything else.
          const last = new Map<number, number>();
          let inserted = 0;
          let deleted = 0;
          let cleared = 0;
          for (const o of ops) {
            if (o.kind === 'clear') {
              cleared += cache.size;
              cache.clear();
              last.clear();
              continue;
            }
            const k = keys[o.k]!;
            switch (o.kind) {
              case 'set':
                if (!cache.has(k)) inserted++;
                cache.set(k, value(o.v));
                last.set(o.k, o.v);
                assert.ok(cache.has(k), 'the entry just set is present');
                break;
              case 'get': {
                const got = cache.get(k);
                if (got !== undefined) assert.equal(hex(got), hex(value(last.get(o.k) ?? -1)));
                break;
              }
              case 'has':
                if (cache.has(k)) assert.ok(last.has(o.k));
                break;
              case 'delete':
                if (cache.delete(k)) {
                  assert.ok(last.has(o.k));
                  deleted++;
                }
                last.delete(o.k);
                break;
            }
            assert.ok(cache.allocatedBytes <= maxBytes);
            assert.ok(cache.size <= cache.capacity * 0.75);
          }
          let present = 0;
          for (let i = 0; i < KEYS; i++) if (cache.has(keys[i]!)) present++;
          assert.equal(present, cache.size);
          assert.equal(inserted, cache.size + cache.stats.evictions + deleted + cleared);
        },
      ),
    );
  });
});
