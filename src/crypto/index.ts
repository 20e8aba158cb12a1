// The crypto face: other folders import crypto through this file.
// (verify-worker.ts is a worker thread's entry point, loaded by verify-pool.ts
// by URL; it is deliberately not re-exported.)
export * from './address.ts';
export * from './coalescing-verifier.ts';
export * from './hash.ts';
export * from './hd-keys.ts';
export * from './key-file.ts';
export * from './muhash.ts';
export * from './sig-cache.ts';
export * from './signer.ts';
export * from './verifier.ts';
export * from './verify-pool.ts';
