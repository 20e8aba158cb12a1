// The util face: what runs anywhere. File helpers (Node-only) are behind ./node.ts.
export * from './bytes.ts';
export * from './clock.ts';
export * from './errors.ts';
export * from './serial-queue.ts';
