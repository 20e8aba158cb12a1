import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { concatBytes } from '../util/bytes.ts';
import { UtxodError } from '../util/errors.ts';
import { SignatureCache, SignatureCacheConfigError } from './sig-cache.ts';

interface Triple {
  msg: Uint8Array;
  sig: Uint8Array;
  pub: Uint8Array;
}

/** Distinct well-formed triples (the cache never looks at validity). */
function triple(i: number): Triple {
  const msg = new Uint8Array(32);
  new DataView(msg.buffer).setUint32(0, i);
  return { msg, sig: new Uint8Array(64).fill(i & 0xff), pub: new Uint8Array(33).fill(2) };
}

function has(cache: SignatureCache, t: Triple): boolean {
  return cache.has(t.msg, t.sig, t.pub);
}

function add(cache: SignatureCache, t: Triple): void {
  cache.add(t.msg, t.sig, t.pub);
}

describe('SignatureCache', () => {
  it('remembers added triples and counts hits and misses', () => {
    const cache = new SignatureCache({ maxEntries: 10 });
    const a = triple(1);
    assert.equal(has(cache, a), false);
    add(cache, a);
    assert.equal(cache.size, 1);
    assert.equal(has(cache, a), true);
    assert.equal(has(cache, a), true);
    assert.equal(has(cache, triple(2)), false);
    assert.equal(cache.hits, 2);
    assert.equal(cache.misses, 2);
  });

  it('keys on msg, sig and pub alike', () => {
    const cache = new SignatureCache({ maxEntries: 10 });
    const a = triple(7);
    add(cache, a);
    for (const part of ['msg', 'sig', 'pub'] as const) {
      for (const index of [0, a[part].length - 1]) {
        const changed = a[part].slice();
        changed[index]! ^= 0x01;
        assert.equal(has(cache, { ...a, [part]: changed }), false, `${part}[${index}]`);
      }
    }
    // Same bytes in fresh arrays and in views at an offset still hit.
    const packed = concatBytes(Uint8Array.of(0xaa), a.msg, a.sig, a.pub);
    assert.equal(
      cache.has(packed.subarray(1, 33), packed.subarray(33, 97), packed.subarray(97)),
      true,
    );
  });

  it('evicts the oldest entry first once full', () => {
    const cache = new SignatureCache({ maxEntries: 3 });
    for (let i = 0; i < 3; i++) add(cache, triple(i));
    assert.equal(has(cache, triple(0)), true); // a hit does not make it younger
    add(cache, triple(3));
    assert.equal(cache.size, 3);
    assert.equal(has(cache, triple(0)), false);
    assert.deepEqual(
      [1, 2, 3].map((i) => has(cache, triple(i))),
      [true, true, true],
    );
    add(cache, triple(4));
    add(cache, triple(5));
    assert.deepEqual(
      [1, 2, 3, 4, 5].map((i) => has(cache, triple(i))),
      [false, false, true, true, true],
    );
  });

  it('ignores a duplicate add', () => {
    const cache = new SignatureCache({ maxEntries: 2 });
    add(cache, triple(1));
    add(cache, triple(1));
    add(cache, triple(2));
    assert.equal(cache.size, 2);
    assert.equal(has(cache, triple(1)), true);
  });

  it('behaves like a FIFO set of at most maxEntries', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.record({ add: fc.boolean(), id: fc.integer({ min: 0, max: 15 }) }), {
          maxLength: 200,
        }),
        (maxEntries, ops) => {
          const cache = new SignatureCache({ maxEntries });
          const model: number[] = [];
          for (const op of ops) {
            if (op.add) {
              add(cache, triple(op.id));
              if (!model.includes(op.id)) {
                model.push(op.id);
                if (model.length > maxEntries) model.shift();
              }
            } else {
              assert.equal(has(cache, triple(op.id)), model.includes(op.id));
            }
            assert.equal(cache.size, model.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never stores or matches wrong lengths', () => {
    const cache = new SignatureCache({ maxEntries: 4 });
    const a = triple(1);
    cache.add(a.msg.subarray(1), a.sig, a.pub);
    cache.add(a.msg, a.sig.subarray(1), a.pub);
    cache.add(a.msg, a.sig, concatBytes(a.pub, Uint8Array.of(0)));
    assert.equal(cache.size, 0);
    add(cache, a);
    assert.equal(cache.has(a.msg, a.sig, a.pub.subarray(1)), false);
  });

  it('maxEntries 0 disables it; clear() empties it', () => {
    const off = new SignatureCache({ maxEntries: 0 });
    add(off, triple(1));
    assert.equal(off.size, 0);
    assert.equal(has(off, triple(1)), false);

    const cache = new SignatureCache({ maxEntries: 2 });
    add(cache, triple(1));
    add(cache, triple(2));
    cache.clear();
    assert.equal(cache.size, 0);
    assert.equal(has(cache, triple(1)), false);
    add(cache, triple(3));
    add(cache, triple(4));
    add(cache, triple(5));
    assert.equal(cache.size, 2);
  });

  it('rejects a bad maxEntries with a typed error', () => {
    for (const maxEntries of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(
        () => new SignatureCache({ maxEntries }),
        (err: unknown) =>
          err instanceof SignatureCacheConfigError &&
          err instanceof UtxodError &&
          err.code === 'INVALID_SIG_CACHE_CONFIG',
      );
    }
  });
});
