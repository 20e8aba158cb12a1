export * from './driver.ts';
export * from './engine.ts';
export * from './messages.ts';
export * from './node-engine.ts';
export * from './proposer.ts';
export * from './types.ts';
export * from './wal.ts';
