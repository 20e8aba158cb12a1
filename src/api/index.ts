export * from './auth/cookie.ts';
export * from './errors.ts';
export * from './metrics-server.ts';
export * from './queries.ts';
export * from './server.ts';
