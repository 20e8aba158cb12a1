export * from './chain.ts';
export * from './consensus.ts';
export * from './registry.ts';
