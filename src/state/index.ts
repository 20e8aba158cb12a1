export * from './errors.ts';
export * from './keys.ts';
export * from './memory.ts';
export * from './overlay.ts';
export * from './proof.ts';
export * from './store.ts';
