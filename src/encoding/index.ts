export * from './errors.ts';
export * from './reader.ts';
export * from './writer.ts';
