export * from './bytes.ts';
export * from './clock.ts';
export * from './errors.ts';
export * from './fs.ts';
export * from './serial-queue.ts';
