import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';

/** SHA-256 for the browser build of the wallet SDK (see sha256.node.ts for Node). */
export function sha256(data: Uint8Array): Uint8Array {
  return nobleSha256(data);
}
