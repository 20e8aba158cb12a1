// The chain's face: other folders import the chain through this file.
export * from './address-index.ts';
export * from './block-assembler.ts';
export * from './block-importer.ts';
export * from './block-verifier.ts';
export * from './chain.ts';
export { baseSetHistoryOps } from './chain-storage.ts';
export * from './chain-store.ts';
export * from './coin-cache.ts';
export * from './genesis.ts';
export * from './records.ts';
export * from './utxo-changes.ts';
export * from './utxo-set.ts';
export * from './verify-chain.ts';
