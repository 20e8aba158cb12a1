import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as noble from '@noble/secp256k1';
import fc from 'fast-check';
import * as tiny from 'tiny-secp256k1';
import { concatBytes, fromHex } from '../util/bytes.ts';
import { sha256 } from './hash.ts';
import { generatePrivateKey, getPublicKey, sign } from './signer.ts';
import {
  availableVerifiers,
  bestVerifier,
  isNativeAvailable,
  nativeLoadError,
  nativeVerifier,
} from './verifier.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;
const HALF_N = N >> 1n;
const verifiers = availableVerifiers();

function be32(value: bigint): Uint8Array {
  return fromHex(value.toString(16).padStart(64, '0'), 32);
}

function num(bytes: Uint8Array): bigint {
  return BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function compact(r: bigint, s: bigint): Uint8Array {
  return concatBytes(be32(r), be32(s));
}

/** Every backend's answer; fails the test if they differ. */
function agreed(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean {
  const results = verifiers.map((v) => v.verify(msg, sig, pub));
  const first = results[0];
  for (const [i, result] of results.entries()) {
    assert.equal(
      result,
      first,
      `${verifiers[i]!.name} says ${result}, ${verifiers[0]!.name} says ${first}`,
    );
  }
  return first!;
}

/** A valid (msg, sig, pub) triple from a fresh key. */
function fixture(seed = 'fixture'): { msg: Uint8Array; sig: Uint8Array; pub: Uint8Array } {
  const priv = sha256(new TextEncoder().encode(`key:${seed}`));
  const msg = sha256(new TextEncoder().encode(`msg:${seed}`));
  return { msg, sig: sign(msg, priv), pub: getPublicKey(priv) };
}

/**
 * A key under which (r, s) is a valid signature of msg, by public-key
 * recovery: lets us test signatures with chosen r and s. `recovery` 2/3 means
 * R.x = r + n (possible because p > n).
 */
function recoverKey(msg: Uint8Array, r: bigint, s: bigint, recovery: number): Uint8Array {
  const sig65 = concatBytes(Uint8Array.of(recovery), compact(r, s));
  return noble.recoverPublicKey(sig65, msg, { prehash: false });
}

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => {
  const d = num(k);
  return d > 0n && d < N;
});
const digestArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('verifier backends', () => {
  it('the native libsecp256k1 addon loads on this platform', () => {
    assert.ok(isNativeAvailable(), `native addon did not load: ${nativeLoadError()?.message}`);
    assert.equal(bestVerifier(), nativeVerifier);
    assert.deepEqual(
      verifiers.map((v) => v.name),
      ['native', 'wasm', 'noble'],
    );
  });

  it('accepts a known RFC 6979 signature (key 1, sha256("Satoshi Nakamoto"))', () => {
    const msg = sha256(new TextEncoder().encode('Satoshi Nakamoto'));
    const pub = getPublicKey(be32(1n));
    const sig = fromHex(
      '934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8' +
        '2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5',
    );
    for (const v of verifiers) assert.equal(v.verify(msg, sig, pub), true, v.name);
  });

  it('returns false, never throws, on wrong lengths and key formats', () => {
    const { msg, sig, pub } = fixture();
    const priv = sha256(new TextEncoder().encode('key:fixture'));
    const uncompressed = noble.getPublicKey(priv, false);
    const cases: Array<[string, Uint8Array, Uint8Array, Uint8Array]> = [
      ['empty msg', new Uint8Array(0), sig, pub],
      ['31-byte msg', msg.subarray(1), sig, pub],
      ['33-byte msg', concatBytes(msg, Uint8Array.of(0)), sig, pub],
      ['63-byte sig', msg, sig.subarray(1), pub],
      ['65-byte sig (recovered format)', msg, concatBytes(Uint8Array.of(0), sig), pub],
      ['empty sig', msg, new Uint8Array(0), pub],
      ['x-only 32-byte key', msg, sig, pub.subarray(1)],
      ['uncompressed 65-byte key (valid point)', msg, sig, uncompressed],
      ['empty key', msg, sig, new Uint8Array(0)],
    ];
    for (const [what, m, s, p] of cases) {
      for (const v of verifiers) assert.equal(v.verify(m, s, p), false, `${v.name}: ${what}`);
    }
    // The raw backends accept the uncompressed key: only our rule rejects it.
    assert.equal(noble.verify(sig, msg, uncompressed, { prehash: false }), true);
    assert.equal(tiny.verify(msg, uncompressed, sig, true), true);
  });

  it('works on subarray views (non-zero byteOffset)', () => {
    const { msg, sig, pub } = fixture('views');
    const packed = concatBytes(Uint8Array.of(9, 9, 9), msg, sig, pub, Uint8Array.of(9));
    const m = packed.subarray(3, 35);
    const s = packed.subarray(35, 99);
    const p = packed.subarray(99, 132);
    for (const v of verifiers) assert.equal(v.verify(m, s, p), true, v.name);
  });

  it('signatures from the signer verify in every backend', () => {
    fc.assert(
      fc.property(keyArb, digestArb, (priv, msg) => {
        assert.equal(agreed(msg, sign(msg, priv), getPublicKey(priv)), true);
      }),
      { numRuns: 40 },
    );
  });

  it('flipping any bit of msg, sig or pub fails in every backend alike', () => {
    fc.assert(
      fc.property(
        keyArb,
        digestArb,
        fc.constantFrom('msg', 'sig', 'pub'),
        fc.nat(),
        (priv, msg, part, bitSeed) => {
          const triple = { msg, sig: sign(msg, priv), pub: getPublicKey(priv) };
          const target = triple[part].slice();
          const bit = bitSeed % (target.length * 8);
          target[bit >> 3]! ^= 1 << (bit & 7);
          const mutated = { ...triple, [part]: target };
          // A `true` here would be a forgery: negligible unless a backend is broken.
          assert.equal(agreed(mutated.msg, mutated.sig, mutated.pub), false);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('random bytes of the right lengths get the same answer everywhere', () => {
    fc.assert(
      fc.property(
        digestArb,
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        fc.constantFrom(0x02, 0x03),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (msg, sig, prefix, x) => {
          agreed(msg, sig, concatBytes(Uint8Array.of(prefix), x));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('rejects the high-S twin (n - s) of every valid signature', () => {
    fc.assert(
      fc.property(keyArb, digestArb, (priv, msg) => {
        const sig = sign(msg, priv);
        const pub = getPublicKey(priv);
        const s = num(sig.subarray(32));
        assert.ok(s <= HALF_N, 'signer must produce low S');
        const twin = compact(num(sig.subarray(0, 32)), N - s);
        assert.equal(agreed(msg, twin, pub), false);
        // The twin is a mathematically valid signature: only the low-S rule rejects it.
        assert.equal(noble.verify(twin, msg, pub, { prehash: false, lowS: false }), true);
        assert.equal(tiny.verify(msg, pub, twin, false), true);
      }),
      { numRuns: 20 },
    );
  });

  it('draws the low-S line exactly at floor(n/2)', () => {
    const msg = sha256(new TextEncoder().encode('half'));
    const r = noble.Point.BASE.x; // the x of G is a valid R.x
    const pub = recoverKey(msg, r, HALF_N, 0);
    assert.equal(agreed(msg, compact(r, HALF_N), pub), true);
    // n - floor(n/2) = floor(n/2) + 1: the same signature, high form.
    assert.equal(agreed(msg, compact(r, HALF_N + 1n), pub), false);
    assert.equal(
      noble.verify(compact(r, HALF_N + 1n), msg, pub, { prehash: false, lowS: false }),
      true,
    );
  });

  it('accepts r = R.x - n when R.x >= n (x mod n comparison)', () => {
    // Find a curve point whose x lies in (n, p): then r = x - n is small (and not 0).
    let x = N + 1n;
    for (; x < P; x++) {
      try {
        noble.Point.fromBytes(concatBytes(Uint8Array.of(0x02), be32(x)));
        break;
      } catch {
        // not on the curve: next x
      }
    }
    const r = x - N;
    const msg = sha256(new TextEncoder().encode('r + n'));
    const s = 12345n;
    const pub = recoverKey(msg, r, s, 2);
    assert.equal(agreed(msg, compact(r, s), pub), true);
    // The same r with R.x = r itself (if that is a point) is a different R: not valid here.
    assert.equal(agreed(msg, compact(r + 1n, s), pub), false);
  });

  it('rejects out-of-range r and s', () => {
    const { msg, sig, pub } = fixture('range');
    const r = num(sig.subarray(0, 32));
    const s = num(sig.subarray(32));
    const cases: Array<[string, Uint8Array]> = [
      ['r = 0', compact(0n, s)],
      ['s = 0', compact(r, 0n)],
      ['r = s = 0', new Uint8Array(64)],
      ['r = n', compact(N, s)],
      ['s = n', compact(r, N)],
      ['r = n + r', compact(N + r < 2n ** 256n ? N + r : N + 1n, s)],
      ['s = n + s', compact(r, N + s < 2n ** 256n ? N + s : N + 1n)],
      ['r = n - 1', compact(N - 1n, s)],
      ['all 0xff', new Uint8Array(64).fill(0xff)],
      ['r = 1, s = 1', compact(1n, 1n)],
    ];
    for (const [what, bad] of cases) {
      for (const v of verifiers) assert.equal(v.verify(msg, bad, pub), false, `${v.name}: ${what}`);
    }
  });

  it('rejects keys that are not compressed curve points', () => {
    const { msg, sig, pub } = fixture('keys');
    const x = pub.subarray(1);
    const cases: Array<[string, Uint8Array]> = [
      ['prefix 00', concatBytes(Uint8Array.of(0x00), x)],
      ['prefix 01', concatBytes(Uint8Array.of(0x01), x)],
      ['prefix 04', concatBytes(Uint8Array.of(0x04), x)],
      ['prefix 05', concatBytes(Uint8Array.of(0x05), x)],
      ['prefix 06 (hybrid)', concatBytes(Uint8Array.of(0x06), x)],
      ['prefix 07 (hybrid)', concatBytes(Uint8Array.of(0x07), x)],
      ['other parity', concatBytes(Uint8Array.of(pub[0] === 0x02 ? 0x03 : 0x02), x)],
      ['x = 0', concatBytes(Uint8Array.of(0x02), new Uint8Array(32))],
      ['x = p', concatBytes(Uint8Array.of(0x02), be32(P))],
      ['x = 2^256 - 1', concatBytes(Uint8Array.of(0x02), new Uint8Array(32).fill(0xff))],
      ['all zero', new Uint8Array(33)],
    ];
    for (const [what, bad] of cases) {
      for (const v of verifiers) assert.equal(v.verify(msg, sig, bad), false, `${v.name}: ${what}`);
    }
    // x not on the curve: 0x02 || 5 (5^3 + 7 = 132 is not a square mod p).
    const offCurve = concatBytes(Uint8Array.of(0x02), be32(5n));
    assert.throws(() => noble.Point.fromBytes(offCurve));
    for (const v of verifiers) assert.equal(v.verify(msg, sig, offCurve), false, v.name);
  });

  it('a message is a digest, never hashed again', () => {
    const priv = generatePrivateKey();
    const msg = sha256(new TextEncoder().encode('prehash'));
    const sig = sign(msg, priv);
    const pub = getPublicKey(priv);
    assert.equal(agreed(sha256(msg), sig, pub), false);
    assert.equal(agreed(msg, sig, pub), true);
  });
});
