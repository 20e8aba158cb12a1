import { decodeAddress, encodeAddress } from '../crypto/index.ts';
import type { Lock } from './lock.ts';
import { LockType } from './lock.ts';

/** The address a lock is paid to: its type is the address version, its hash the program. */
export function lockToAddress(lock: Lock, hrp: string): string {
  return encodeAddress(hrp, lock.type, lock.hash);
}

export function addressToLock(address: string, hrp: string): Lock {
  const { program } = decodeAddress(address, hrp);
  return { type: LockType.pubkeyHash, hash: program };
}
