import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { isValidConsensusKey } from '../client/staking.ts';
import { isValidPublicKey as payloadKeyCheck } from '../consensus/staking/payload.ts';
import { PUBKEY_SIZE } from '../primitives/index.ts';
import { fromHex, toHex } from '../util/bytes.ts';
import { UtxodError } from '../util/errors.ts';
import { sha256 } from './hash.ts';
import {
  generatePrivateKey,
  getPublicKey,
  InvalidDigestError,
  InvalidPrivateKeyError,
  isValidPrivateKey,
  isValidPublicKey,
  sign,
} from './signer.ts';
import { isNativeAvailable, nobleVerifier } from './verifier.ts';

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function be32(value: bigint): Uint8Array {
  return fromHex(value.toString(16).padStart(64, '0'), 32);
}

/** libsecp256k1's own signer, to cross-check RFC 6979 byte for byte. */
interface NativeSigner {
  ecdsaSign(msg32: Uint8Array, priv32: Uint8Array): { signature: Uint8Array };
  publicKeyCreate(priv32: Uint8Array, compressed: boolean): Uint8Array;
}
const native = isNativeAvailable()
  ? (createRequire(import.meta.url)('secp256k1/bindings') as NativeSigner)
  : undefined;

const keyArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter(isValidPrivateKey);
const digestArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('signer', () => {
  it('generates distinct valid keys', () => {
    const a = generatePrivateKey();
    const b = generatePrivateKey();
    assert.equal(a.length, 32);
    assert.ok(isValidPrivateKey(a));
    assert.notDeepEqual(a, b);
  });

  it('derives 33-byte compressed public keys', () => {
    assert.equal(
      toHex(getPublicKey(be32(1n))),
      '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
    );
    fc.assert(
      fc.property(keyArb, (priv) => {
        const pub = getPublicKey(priv);
        assert.equal(pub.length, 33);
        assert.ok(pub[0] === 0x02 || pub[0] === 0x03);
        if (native) assert.deepEqual(pub, native.publicKeyCreate(priv, true));
      }),
      { numRuns: 30 },
    );
  });

  it('signs deterministically (RFC 6979), low S, identical to libsecp256k1', () => {
    const priv = be32(1n);
    const msg = sha256(new TextEncoder().encode('Satoshi Nakamoto'));
    assert.equal(
      toHex(sign(msg, priv)),
      '934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d8' +
        '2442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5',
    );
    fc.assert(
      fc.property(keyArb, digestArb, (priv, msg) => {
        const sig = sign(msg, priv);
        assert.equal(sig.length, 64);
        assert.deepEqual(sign(msg, priv), sig);
        const s = BigInt(`0x${toHex(sig.subarray(32))}`);
        assert.ok(s >= 1n && s <= N >> 1n);
        if (native) assert.deepEqual(sig, native.ecdsaSign(msg, priv).signature);
      }),
      { numRuns: 50 },
    );
  });

  it('signs at the extremes of the key range', () => {
    const msg = sha256(new TextEncoder().encode('edge keys'));
    for (const d of [1n, 2n, N >> 1n, N - 2n, N - 1n]) {
      const priv = be32(d);
      assert.ok(isValidPrivateKey(priv));
      assert.ok(nobleVerifier.verify(msg, sign(msg, priv), getPublicKey(priv)));
    }
  });

  it('rejects invalid private keys with a typed error that does not echo the key', () => {
    const msg = new Uint8Array(32);
    const bad: Array<[string, Uint8Array]> = [
      ['zero', new Uint8Array(32)],
      ['n', be32(N)],
      ['n + 1', be32(N + 1n)],
      ['all 0xff', new Uint8Array(32).fill(0xff)],
      ['31 bytes', new Uint8Array(31).fill(1)],
      ['33 bytes', new Uint8Array(33).fill(1)],
      ['empty', new Uint8Array(0)],
    ];
    for (const [what, priv] of bad) {
      assert.equal(isValidPrivateKey(priv), false, what);
      for (const call of [() => getPublicKey(priv), () => sign(msg, priv)]) {
        assert.throws(call, (err: unknown) => {
          assert.ok(err instanceof InvalidPrivateKeyError, what);
          assert.ok(err instanceof UtxodError);
          assert.equal(err.code, 'INVALID_PRIVATE_KEY');
          if (priv.length > 0) assert.ok(!err.message.includes(toHex(priv)), what);
          return true;
        });
      }
    }
  });

  it('signs 32-byte digests only', () => {
    const priv = generatePrivateKey();
    for (const length of [0, 31, 33, 64]) {
      assert.throws(
        () => sign(new Uint8Array(length), priv),
        (err: unknown) => err instanceof InvalidDigestError && err.code === 'INVALID_DIGEST',
      );
    }
  });

  it('isValidPublicKey: the one key check of the node and the wallet SDK', () => {
    // Payload decoding (consensus) and the SDK's pre-signing check must agree.
    assert.equal(payloadKeyCheck, isValidPublicKey);
    assert.equal(isValidConsensusKey, isValidPublicKey);
    const key = getPublicKey(generatePrivateKey());
    assert.equal(key.length, PUBKEY_SIZE);
    assert.equal(isValidPublicKey(key), true);
    assert.equal(isValidPublicKey(key.subarray(0, PUBKEY_SIZE - 1)), false);
    assert.equal(isValidPublicKey(Uint8Array.of(4, ...key.subarray(1))), false);
  });
});
