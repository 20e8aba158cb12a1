export * from './bytes.ts';
export * from './errors.ts';
export * from './serial-queue.ts';
