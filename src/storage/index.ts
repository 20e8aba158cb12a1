export * from './buckets.ts';
export * from './db.ts';
export * from './errors.ts';
export * from './migrations.ts';
export * from './repository.ts';
