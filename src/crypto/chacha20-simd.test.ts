import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chacha20 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { toHex } from '../util/bytes.ts';
import {
  KEYSTREAM_BYTES,
  reversedKeystream,
  reversedKeystreamHex,
  reversedKeystreamScalar,
  simdKeystream,
} from './chacha20-simd.ts';

/** The keystream in natural order from @noble/ciphers, which the rest is held to. */
function reference(key: Uint8Array): Uint8Array {
  return chacha20(key, new Uint8Array(12), new Uint8Array(KEYSTREAM_BYTES));
}

function reversed(bytes: Uint8Array): Uint8Array {
  return bytes.slice().reverse();
}

describe('ChaCha20 keystream for MuHash', () => {
  it('uses the WebAssembly SIMD path on this platform', () => {
    // Node 24 on x86-64 and arm64 has WebAssembly SIMD; the scalar path is the fallback.
    assert.equal(simdKeystream(), true);
  });

  it('gives RFC 8439 A.1 test vector #1 (zero key, zero nonce, counter 0)', () => {
    const natural = reversed(reversedKeystream(new Uint8Array(32)));
    assert.equal(
      toHex(natural.subarray(0, 64)),
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7' +
        'da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
    );
  });

  it('matches @noble/ciphers byte for byte on both paths, all six blocks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (key) => {
        const want = toHex(reversed(reference(key)));
        assert.equal(toHex(reversedKeystream(key)), want);
        assert.equal(toHex(reversedKeystreamScalar(key)), want);
        assert.equal(reversedKeystreamHex(key), want);
      }),
      { numRuns: 300 },
    );
  });

  it('keys with every bit pattern in each word position (lane and carry edges)', () => {
    for (let word = 0; word < 8; word++) {
      for (const value of [0, 1, 0x7fffffff, 0x80000000, 0xffffffff]) {
        const key = new Uint8Array(32);
        new DataView(key.buffer).setUint32(4 * word, value, true);
        assert.equal(toHex(reversedKeystream(key)), toHex(reversed(reference(key))));
      }
    }
  });

  it('rejects a key that is not 32 bytes', () => {
    assert.throws(() => reversedKeystream(new Uint8Array(31)), RangeError);
    assert.throws(() => reversedKeystream(new Uint8Array(33)), RangeError);
  });
});
