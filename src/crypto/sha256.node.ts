import { hash } from 'node:crypto';

/**
 * SHA-256 through Node's one-shot native hash: ~1.5x faster than a JS
 * implementation on the short inputs that dominate validation (outpoints,
 * sighash preimages, coins).
 */
export function sha256(data: Uint8Array): Uint8Array {
  const digest = hash('sha256', data, 'buffer');
  // A plain Uint8Array view (no copy): hashes compare equal to decoded bytes.
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}
