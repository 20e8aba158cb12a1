export * from './errors.ts';
export * from './evidence.ts';
export * from './ledger.ts';
export * from './params.ts';
export * from './payload.ts';
export * from './queries.ts';
export * from './records.ts';
export * from './rules.ts';
