// The snapshot face: other folders import snapshots through this file.
export * from './errors.ts';
export * from './format.ts';
export * from './rebuild.ts';
export * from './store.ts';
export * from './verify.ts';
