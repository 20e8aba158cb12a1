export * from './bytes.ts';
export * from './clock.ts';
export * from './errors.ts';
export * from './serial-queue.ts';
