// The crypto face for Node-only parts: native/WASM verifier backends, the
// worker-thread pool and its coalescing front, key files, the signature cache.
export * from './coalescing-verifier.ts';
export * from './key-file.ts';
export * from './sig-cache.ts';
export * from './verifier.ts';
export * from './verify-pool.ts';
