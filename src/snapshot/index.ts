// The snapshot face: other folders import snapshots through this file.

export * from './backup.ts';
export * from './errors.ts';
export * from './file.ts';
export * from './format.ts';
export * from './metrics.ts';
export * from './rebuild.ts';
export * from './restore.ts';
export * from './state-sync.ts';
export * from './store.ts';
export * from './verify.ts';
export * from './writer.ts';
