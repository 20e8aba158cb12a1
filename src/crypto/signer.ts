/**
 * Key generation and signing with @noble/secp256k1 (audited, constant-time
 * where it matters for secrets, no native code in the signer's process).
 * Signatures are what `verifier.ts` accepts: 64-byte compact r||s, low S, over
 * a 32-byte digest, with RFC 6979 deterministic nonces (no RNG at signing
 * time, so a weak RNG can never leak a key through a repeated nonce).
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import * as secp from '@noble/secp256k1';
import { UtxodError } from '../util/index.ts';

// noble ships only async (WebCrypto) hashes; the sync `sign` needs these.
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key, msg) => hmac(sha256, key, msg);

export const PRIVATE_KEY_BYTES = 32;
/** primitives' PUBKEY_SIZE; crypto sits below primitives and may not import it. */
const COMPRESSED_PUBLIC_KEY_BYTES = 33;
/** verifier.ts's DIGEST_BYTES, not imported from there: the verifier loads native code, and the wallet SDK (browsers) signs. */
const DIGEST_BYTES = 32;

/** Not 32 bytes, or not a scalar in [1, n-1]. The key itself is never put in the error. */
export class InvalidPrivateKeyError extends UtxodError<'INVALID_PRIVATE_KEY'> {
  constructor(reason: string) {
    super('INVALID_PRIVATE_KEY', `invalid private key: ${reason}`, { reason });
  }
}

/** We sign digests only: anything but 32 bytes is a caller bug, not a message to hash. */
export class InvalidDigestError extends UtxodError<'INVALID_DIGEST'> {
  constructor(length: number) {
    super('INVALID_DIGEST', `expected a ${DIGEST_BYTES}-byte digest, got ${length} bytes`, {
      length,
    });
  }
}

const SIGN_OPTS = { prehash: false, lowS: true, format: 'compact' } as const;

/** A uniformly random valid private key from the platform CSPRNG. */
export function generatePrivateKey(): Uint8Array {
  return secp.utils.randomSecretKey();
}

export function isValidPrivateKey(priv32: Uint8Array): boolean {
  return priv32.length === PRIVATE_KEY_BYTES && secp.utils.isValidSecretKey(priv32);
}

function assertPrivateKey(priv32: Uint8Array): void {
  if (priv32.length !== PRIVATE_KEY_BYTES) {
    throw new InvalidPrivateKeyError(`expected ${PRIVATE_KEY_BYTES} bytes, got ${priv32.length}`);
  }
  if (!secp.utils.isValidSecretKey(priv32)) {
    throw new InvalidPrivateKeyError('not in [1, n-1]');
  }
}

/** 33-byte compressed public key. */
export function getPublicKey(priv32: Uint8Array): Uint8Array {
  assertPrivateKey(priv32);
  return secp.getPublicKey(priv32, true);
}

/**
 * A 33-byte compressed secp256k1 point on the curve: the only public key the
 * node accepts as a consensus or operator key. The wallet SDK refuses, before
 * signing, what the node would refuse, so both call this one function.
 */
export function isValidPublicKey(key: Uint8Array): boolean {
  // The point parser also takes a 65-byte uncompressed point: refuse it first.
  if (key.length !== COMPRESSED_PUBLIC_KEY_BYTES || (key[0] !== 2 && key[0] !== 3)) return false;
  try {
    secp.Point.fromBytes(key);
    return true;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}

/** 64-byte compact low-S signature of a 32-byte digest, RFC 6979 nonce. */
export function sign(msg32: Uint8Array, priv32: Uint8Array): Uint8Array {
  if (msg32.length !== DIGEST_BYTES) throw new InvalidDigestError(msg32.length);
  assertPrivateKey(priv32);
  return secp.sign(msg32, priv32, SIGN_OPTS);
}
