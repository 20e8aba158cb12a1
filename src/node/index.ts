export * from './datadir.ts';
export * from './node.ts';
