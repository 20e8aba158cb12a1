// The crypto face: other folders import crypto through this file. It holds
// only what runs anywhere (the SDK bundles it for browsers, and the state
// proof verifier must stay portable); the parts that need Node (native and
// worker-thread verification, key files, the signature cache) are behind
// ./node.ts. verify-worker.ts is a worker thread's entry point, loaded by
// verify-pool.ts by URL, and is deliberately not re-exported.
export * from './address.ts';
export * from './hash.ts';
export * from './hd-keys.ts';
export * from './muhash.ts';
export * from './signer.ts';
