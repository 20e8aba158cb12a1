export { addressToLock, lockToAddress, pubkeyLock } from '../primitives/index.ts';
export * from './tx-builder.ts';
