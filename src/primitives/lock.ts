import { Tag, taggedHash } from '../crypto/index.ts';
import type { Reader, Writer } from '../encoding/index.ts';
import { DecodeError } from '../encoding/index.ts';
import { HASH_SIZE } from './limits.ts';

/**
 * Who may spend an output. Every lock is a type byte and a 32-byte hash, so
 * every output (and every cached coin) has one fixed size. The type is also
 * the address version.
 */
export interface Lock {
  readonly type: LockType;
  readonly hash: Uint8Array;
}

export const LockType = {
  /** Spent by a signature from the key whose lockHash is `hash`. */
  pubkeyHash: 0,
  /**
   * Spent only when the contract whose id is `hash` allows it: its `spend`
   * method returns true for the spending transaction (docs/contracts.md).
   */
  contract: 1,
} as const;
export type LockType = (typeof LockType)[keyof typeof LockType];

export const LOCK_SIZE = 1 + HASH_SIZE;

export function pubkeyLock(publicKey: Uint8Array): Lock {
  return { type: LockType.pubkeyHash, hash: pubkeyHash(publicKey) };
}

export function pubkeyHash(publicKey: Uint8Array): Uint8Array {
  return taggedHash(Tag.lockHash, publicKey);
}

export function writeLock(w: Writer, lock: Lock): void {
  w.u8(lock.type).bytes(lock.hash);
}

export function readLock(r: Reader): Lock {
  const type = r.u8('lock.type');
  if (type !== LockType.pubkeyHash && type !== LockType.contract) {
    throw new DecodeError('invalid-value', r.what, { field: 'lock.type', value: type });
  }
  return { type, hash: r.bytes(HASH_SIZE, 'lock.hash') };
}
