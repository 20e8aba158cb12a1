export * from './block.ts';
export * from './errors.ts';
export * from './records.ts';
export * from './runtime.ts';
export * from './spend.ts';
