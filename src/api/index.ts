export * from './errors.ts';
export * from './server.ts';
