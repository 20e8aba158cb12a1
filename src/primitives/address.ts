import { AddressError, decodeAddress, encodeAddress } from '../crypto/index.ts';
import type { Lock } from './lock.ts';
import { LockType } from './lock.ts';

/** The address a lock is paid to: its type is the address version, its hash the program. */
export function lockToAddress(lock: Lock, hrp: string): string {
  return encodeAddress(hrp, lock.type, lock.hash);
}

export function addressToLock(address: string, hrp: string): Lock {
  const { version, program } = decodeAddress(address, hrp);
  // Versions are lock types; one no node understands would lock coins forever.
  if (version !== LockType.pubkeyHash && version !== LockType.contract) {
    throw new AddressError('bad-version', { version });
  }
  return { type: version, hash: program };
}
