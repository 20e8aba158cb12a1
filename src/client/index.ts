export { addressToLock, lockToAddress } from '../primitives/address.ts';
export { pubkeyLock } from '../primitives/lock.ts';
export * from './tx-builder.ts';
