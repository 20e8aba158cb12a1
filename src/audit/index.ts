export * from './aggregate.ts';
export * from './log.ts';
