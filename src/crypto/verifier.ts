/**
 * ECDSA/secp256k1 signature verification behind one interface, with three
 * interchangeable backends: libsecp256k1 native (the hot path), libsecp256k1
 * as WASM (when no prebuilt addon exists for the platform) and
 * `@noble/secp256k1` (the reference the other two are tested against).
 *
 * The consensus rule, identical in every backend:
 * - the message is a 32-byte digest, used as is (never hashed again);
 * - the signature is 64-byte compact r||s with r, s in [1, n-1] and low S
 *   (s <= floor(n/2)), so a valid signature has exactly one accepted encoding;
 * - the public key is 33-byte compressed (prefix 02 or 03) and on the curve.
 * `verify` never throws: malformed input is just `false`, and the caller turns
 * `false` into its own typed consensus error.
 */
import { createRequire } from 'node:module';
import * as noble from '@noble/secp256k1';
import * as tiny from 'tiny-secp256k1';
import { asError } from '../util/index.ts';

export const DIGEST_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const PUBLIC_KEY_BYTES = 33;

export interface SignatureVerifier {
  readonly name: string;
  verify(msg32: Uint8Array, sig64: Uint8Array, pub33: Uint8Array): boolean;
}

/**
 * Checked before any backend sees the input, because the backends accept more
 * than our rule does (all take 65-byte uncompressed keys, tiny-secp256k1 also
 * 32-byte x-only keys) and some throw where we must return false.
 */
function wellFormed(msg32: Uint8Array, sig64: Uint8Array, pub33: Uint8Array): boolean {
  return (
    msg32.length === DIGEST_BYTES &&
    sig64.length === SIGNATURE_BYTES &&
    pub33.length === PUBLIC_KEY_BYTES &&
    (pub33[0] === 0x02 || pub33[0] === 0x03)
  );
}

/** The part of `secp256k1/bindings` we use (the package ships no types for it). */
interface NativeBinding {
  ecdsaVerify(sig: Uint8Array, msg32: Uint8Array, pub: Uint8Array): boolean;
}

// `secp256k1` (the package main) silently falls back to a pure-JS elliptic
// implementation when the addon fails to load: ~40x slower and a different
// code base from the one we test. Loading `secp256k1/bindings` directly makes
// a missing addon visible instead.
let binding: NativeBinding | undefined;
let bindingError: Error | undefined;
try {
  const loaded: unknown = createRequire(import.meta.url)('secp256k1/bindings');
  if (
    typeof loaded === 'object' &&
    loaded !== null &&
    typeof (loaded as Partial<NativeBinding>).ecdsaVerify === 'function'
  ) {
    binding = loaded as NativeBinding;
  } else {
    bindingError = new Error('secp256k1/bindings has no ecdsaVerify');
  }
} catch (thrown) {
  bindingError = asError(thrown);
}

/** Whether the libsecp256k1 N-API addon loaded (a prebuild exists for this platform). */
export function isNativeAvailable(): boolean {
  return binding !== undefined;
}

/** Why the native addon did not load, for a startup log line. */
export function nativeLoadError(): Error | undefined {
  return bindingError;
}

function makeNativeVerifier(native: NativeBinding): SignatureVerifier {
  return {
    name: 'native',
    verify(msg32, sig64, pub33) {
      if (!wellFormed(msg32, sig64, pub33)) return false;
      try {
        // libsecp256k1's verify rejects high S itself; the JS wrapper throws
        // (rather than returning false) when r or s >= n or the key is off-curve.
        return native.ecdsaVerify(sig64, msg32, pub33);
      } catch {
        return false;
      }
    },
  };
}

/** libsecp256k1 through its N-API addon; undefined when the addon is unavailable. */
export const nativeVerifier: SignatureVerifier | undefined =
  binding === undefined ? undefined : makeNativeVerifier(binding);

/** libsecp256k1 compiled to WASM (tiny-secp256k1), strict mode (low S only). */
export const wasmVerifier: SignatureVerifier = {
  name: 'wasm',
  verify(msg32, sig64, pub33) {
    if (!wellFormed(msg32, sig64, pub33)) return false;
    try {
      // Throws for r or s >= n and for keys off the curve.
      return tiny.verify(msg32, pub33, sig64, true);
    } catch {
      return false;
    }
  },
};

const NOBLE_OPTS = { prehash: false, lowS: true, format: 'compact' } as const;

/** @noble/secp256k1: audited pure JS, slow; the reference in tests. */
export const nobleVerifier: SignatureVerifier = {
  name: 'noble',
  verify(msg32, sig64, pub33) {
    if (!wellFormed(msg32, sig64, pub33)) return false;
    try {
      return noble.verify(sig64, msg32, pub33, NOBLE_OPTS);
    } catch {
      return false;
    }
  },
};

/** The fastest backend on this platform: native, else WASM. */
export function bestVerifier(): SignatureVerifier {
  return nativeVerifier ?? wasmVerifier;
}

/** Every backend that loaded, fastest first (for agreement tests and benchmarks). */
export function availableVerifiers(): SignatureVerifier[] {
  const all = [wasmVerifier, nobleVerifier];
  return nativeVerifier === undefined ? all : [nativeVerifier, ...all];
}
