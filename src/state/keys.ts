import { UtxodError } from '../util/index.ts';

/**
 * The first byte of every state key. A namespace is never renumbered: the
 * byte is part of every leaf hash, so renumbering would change every root.
 */
export const Namespace = {
  /** validator id (32) -> validator record (operator key, consensus key, rotation). */
  registry: 0x01,
  /** validator id (32) -> bonded amount. */
  stake: 0x02,
  /** validator id (32) + creation height u32 BE -> unbonding entry. */
  unbonding: 0x03,
  /** validator id (32) -> jail record (jailed until, tombstoned). */
  jail: 0x04,
  /** validator id (32) -> missed-block window. */
  missedBlocks: 0x05,
  /** consensus public key (33) -> validator id: every key ever used, so none is reused. */
  consensusKey: 0x06,
  /** height u32 BE -> the validator set that signs that height. */
  validatorSet: 0x07,
  /** (no suffix) -> staking totals: bonded, unbonding, slashed. */
  totals: 0x08,
  /** equivocation (evidenceSlot: consensus key, height, round, vote type; 42 bytes) -> committing height. */
  committedEvidence: 0x09,
  /** contract id (32) -> contract code. */
  contractCode: 0x10,
  /** contract id (32) + storage key (1..128 bytes) -> value. */
  contractStorage: 0x11,
  /** code hash (32) -> contract source, shared by every contract deployed with it. */
  contractSource: 0x12,
} as const;
export type Namespace = (typeof Namespace)[keyof typeof Namespace];

const NAMESPACE_BYTES: ReadonlySet<number> = new Set(Object.values(Namespace));

/** Bounds of the raw (unhashed) key and of a value, checked on every write. */
export const MAX_STATE_KEY_BYTES = 1 + 32 + 128;
export const MAX_STATE_VALUE_BYTES = 64 * 1024;
export const MAX_CONTRACT_STORAGE_KEY_BYTES = 128;

/** A raw state key built by `StateKeys`; the brand keeps hand-made prefixes out. */
export type StateKey = Uint8Array & { readonly __stateKey: true };

export class StateKeyError extends UtxodError<'INVALID_STATE_KEY'> {
  constructor(reason: string) {
    super('INVALID_STATE_KEY', `invalid state key: ${reason}`);
  }
}

function build(ns: Namespace, ...parts: Uint8Array[]): StateKey {
  let length = 1;
  for (const part of parts) length += part.length;
  const key = new Uint8Array(length);
  key[0] = ns;
  let offset = 1;
  for (const part of parts) {
    key.set(part, offset);
    offset += part.length;
  }
  return key as StateKey;
}

function fixed(bytes: Uint8Array, size: number, what: string): Uint8Array {
  if (bytes.length !== size) throw new StateKeyError(`${what} must be ${size} bytes`);
  return bytes;
}

function u32BE(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new StateKeyError(`height ${value} out of range`);
  }
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/** The only place state keys are spelled. Integers are big-endian so keys sort numerically. */
export const StateKeys = {
  registry: (validatorId: Uint8Array) =>
    build(Namespace.registry, fixed(validatorId, 32, 'validator id')),
  stake: (validatorId: Uint8Array) =>
    build(Namespace.stake, fixed(validatorId, 32, 'validator id')),
  unbonding: (validatorId: Uint8Array, creationHeight: number) =>
    build(Namespace.unbonding, fixed(validatorId, 32, 'validator id'), u32BE(creationHeight)),
  /** Prefix of one validator's unbonding entries, for iteration. */
  unbondingOf: (validatorId: Uint8Array) =>
    build(Namespace.unbonding, fixed(validatorId, 32, 'validator id')),
  jail: (validatorId: Uint8Array) => build(Namespace.jail, fixed(validatorId, 32, 'validator id')),
  missedBlocks: (validatorId: Uint8Array) =>
    build(Namespace.missedBlocks, fixed(validatorId, 32, 'validator id')),
  consensusKey: (publicKey: Uint8Array) =>
    build(Namespace.consensusKey, fixed(publicKey, 33, 'consensus key')),
  validatorSet: (height: number) => build(Namespace.validatorSet, u32BE(height)),
  totals: () => build(Namespace.totals),
  committedEvidence: (slot: Uint8Array) =>
    build(Namespace.committedEvidence, fixed(slot, 42, 'evidence slot')),
  contractCode: (contractId: Uint8Array) =>
    build(Namespace.contractCode, fixed(contractId, 32, 'contract id')),
  contractStorage: (contractId: Uint8Array, key: Uint8Array) => {
    if (key.length === 0 || key.length > MAX_CONTRACT_STORAGE_KEY_BYTES) {
      throw new StateKeyError(`contract storage key of ${key.length} bytes`);
    }
    return build(Namespace.contractStorage, fixed(contractId, 32, 'contract id'), key);
  },
  contractSource: (codeHash: Uint8Array) =>
    build(Namespace.contractSource, fixed(codeHash, 32, 'code hash')),
  /** Prefix of one contract's storage, for iteration. */
  contractStorageOf: (contractId: Uint8Array) =>
    build(Namespace.contractStorage, fixed(contractId, 32, 'contract id')),
  namespace: (ns: Namespace) => build(ns),
} as const;

/**
 * Accepts a raw key read back from disk or a snapshot: known namespace byte,
 * within bounds. Returns it branded.
 */
export function asStateKey(bytes: Uint8Array): StateKey {
  if (bytes.length === 0 || bytes.length > MAX_STATE_KEY_BYTES) {
    throw new StateKeyError(`${bytes.length} bytes`);
  }
  if (!NAMESPACE_BYTES.has(bytes[0]!)) throw new StateKeyError(`unknown namespace ${bytes[0]}`);
  return bytes as StateKey;
}
