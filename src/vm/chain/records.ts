import { sha256 } from '../../crypto/index.ts';
import { DecodeError, decodeExact, Writer } from '../../encoding/index.ts';
import { HASH_SIZE } from '../../primitives/index.ts';
import {
  MAX_CONTRACT_STORAGE_KEY_BYTES,
  type StateKey,
  StateKeys,
  type StateOverlay,
  type StateReader,
} from '../../state/index.ts';
import type { AsyncContractStorageReader } from '../sandbox.ts';

/**
 * How contracts sit in the state store (docs/contracts.md, "State"):
 *   contractCode    id -> codeHash(32) | deployHeight u32 | deployTxid(32)
 *   contractSource  codeHash -> source (UTF-8), shared by equal deploys
 *   contractStorage id | storageKey -> canonical value text (UTF-8)
 */
export interface ContractRecord {
  readonly codeHash: Uint8Array;
  readonly deployHeight: number;
  readonly deployTxid: Uint8Array;
}

export const CONTRACT_RECORD_SIZE = HASH_SIZE + 4 + HASH_SIZE;

export function encodeContractRecord(record: ContractRecord): Uint8Array {
  return new Writer(CONTRACT_RECORD_SIZE)
    .bytes(record.codeHash)
    .u32(record.deployHeight)
    .bytes(record.deployTxid)
    .finish();
}

export function decodeContractRecord(bytes: Uint8Array): ContractRecord {
  return decodeExact(bytes, 'contract record', (r) => ({
    codeHash: r.bytes(HASH_SIZE, 'codeHash'),
    deployHeight: r.u32('deployHeight'),
    deployTxid: r.bytes(HASH_SIZE, 'deployTxid'),
  }));
}

export async function readContractRecord(
  reader: StateReader,
  id: Uint8Array,
): Promise<ContractRecord | undefined> {
  const bytes = await reader.get(StateKeys.contractCode(id));
  return bytes === undefined ? undefined : decodeContractRecord(bytes);
}

/** Marks the hashed form of a storage key: no UTF-8 text starts with 0xff. */
const HASHED_KEY = 0xff;

/**
 * The state key of a contract storage key. A key's UTF-8 bytes when they fit
 * 128 bytes; otherwise 0xff then SHA-256 of them (a 128-character key can take
 * up to 384 bytes). The runtime refuses keys with lone surrogates, so the
 * UTF-8 form is one-to-one.
 */
export function storageStateKey(id: Uint8Array, key: string): StateKey {
  // (String.prototype.isWellFormed is ES2024, past this project's lib setting.)
  if (/\p{Surrogate}/u.test(key)) throw new DecodeError('invalid-value', 'storage key');
  const utf8 = new TextEncoder().encode(key);
  if (utf8.length <= MAX_CONTRACT_STORAGE_KEY_BYTES) return StateKeys.contractStorage(id, utf8);
  const hashed = new Uint8Array(1 + HASH_SIZE);
  hashed[0] = HASHED_KEY;
  hashed.set(sha256(utf8), 1);
  return StateKeys.contractStorage(id, hashed);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The contract storage key of a state entry, or null when only its hash is stored. */
export function storageKeyText(id: Uint8Array, stateKey: Uint8Array): string | null {
  const raw = stateKey.subarray(StateKeys.contractStorageOf(id).length);
  if (raw[0] === HASHED_KEY) return null;
  return strictUtf8.decode(raw);
}

/** A contract's storage as the sandbox reads it: canonical value text or null. */
export function storageReader(reader: StateReader, id: Uint8Array): AsyncContractStorageReader {
  return {
    async get(key) {
      const bytes = await reader.get(storageStateKey(id, key));
      return bytes === undefined ? null : strictUtf8.decode(bytes);
    },
  };
}

/** Stages a successful call's writes (value text, or null to delete). */
export function applyStorageWrites(
  overlay: StateOverlay,
  id: Uint8Array,
  writes: ReadonlyMap<string, string | null>,
): void {
  const encoder = new TextEncoder();
  for (const [key, value] of writes) {
    const stateKey = storageStateKey(id, key);
    if (value === null) overlay.delete(stateKey);
    else overlay.put(stateKey, encoder.encode(value));
  }
}
