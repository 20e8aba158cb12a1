import { Point } from '@noble/secp256k1';
import { DecodeError, decodeExact, type Reader, Writer } from '../../encoding/index.ts';
import type { TxPayload } from '../../primitives/index.ts';
import { isValidAmount, PUBKEY_SIZE } from '../../primitives/index.ts';
import { VerificationError } from '../errors.ts';

/**
 * Transaction payload types of the staking rules (type 0 is the memo). The
 * operator of a validator is the key that signs the transaction's first
 * input: its signature covers the payload (docs/protocol.md, signature hash).
 */
export const StakingPayloadType = {
  bond: 1,
  unbond: 2,
  rotateKey: 3,
  unjail: 4,
  withdraw: 5,
} as const;
export type StakingPayloadType = (typeof StakingPayloadType)[keyof typeof StakingPayloadType];

export type StakingPayload =
  | { readonly kind: 'bond'; readonly amount: bigint; readonly consensusKey: Uint8Array }
  | { readonly kind: 'unbond'; readonly amount: bigint }
  | { readonly kind: 'rotateKey'; readonly consensusKey: Uint8Array }
  | { readonly kind: 'unjail' }
  | { readonly kind: 'withdraw'; readonly creationHeight: number };

/** The largest staking payload (bond): 8 + 33 bytes. */
export const MAX_STAKING_PAYLOAD_BYTES = 41;

const TYPES: ReadonlySet<number> = new Set(Object.values(StakingPayloadType));

export function isStakingPayloadType(type: number): type is StakingPayloadType {
  return TYPES.has(type);
}

export function encodeStakingPayload(p: StakingPayload): TxPayload {
  const w = new Writer(MAX_STAKING_PAYLOAD_BYTES);
  switch (p.kind) {
    case 'bond':
      w.u64(p.amount).bytes(p.consensusKey);
      return { type: StakingPayloadType.bond, data: w.finish() };
    case 'unbond':
      w.u64(p.amount);
      return { type: StakingPayloadType.unbond, data: w.finish() };
    case 'rotateKey':
      w.bytes(p.consensusKey);
      return { type: StakingPayloadType.rotateKey, data: w.finish() };
    case 'unjail':
      return { type: StakingPayloadType.unjail, data: new Uint8Array(0) };
    case 'withdraw':
      w.u32(p.creationHeight);
      return { type: StakingPayloadType.withdraw, data: w.finish() };
  }
}

/** A compressed secp256k1 point that is on the curve. */
export function readConsensusKey(r: Reader, field: string): Uint8Array {
  const key = r.bytes(PUBKEY_SIZE, field);
  if (!isValidPublicKey(key)) {
    throw new DecodeError('invalid-value', r.what, { field, reason: 'not a compressed point' });
  }
  return key;
}

export function isValidPublicKey(key: Uint8Array): boolean {
  if (key.length !== PUBKEY_SIZE || (key[0] !== 2 && key[0] !== 3)) return false;
  try {
    Point.fromBytes(key);
    return true;
  } catch (error) {
    if (error instanceof Error) return false;
    throw error;
  }
}

function readStakeAmount(r: Reader): bigint {
  const amount = r.u64('amount');
  if (amount === 0n || !isValidAmount(amount)) {
    throw new DecodeError('out-of-range', r.what, { field: 'amount', value: amount.toString() });
  }
  return amount;
}

/**
 * Strict decoding of a staking payload: exact length per type, amounts in
 * (0, MAX_MONEY], keys on the curve. Failures are STAKE_PAYLOAD_MALFORMED.
 */
export function decodeStakingPayload(payload: TxPayload): StakingPayload {
  try {
    return decodeExact(payload.data, 'staking payload', (r): StakingPayload => {
      switch (payload.type) {
        case StakingPayloadType.bond:
          return {
            kind: 'bond',
            amount: readStakeAmount(r),
            consensusKey: readConsensusKey(r, 'consensusKey'),
          };
        case StakingPayloadType.unbond:
          return { kind: 'unbond', amount: readStakeAmount(r) };
        case StakingPayloadType.rotateKey:
          return { kind: 'rotateKey', consensusKey: readConsensusKey(r, 'consensusKey') };
        case StakingPayloadType.unjail:
          return { kind: 'unjail' };
        case StakingPayloadType.withdraw:
          return { kind: 'withdraw', creationHeight: r.u32('creationHeight') };
        default:
          throw new DecodeError('invalid-value', r.what, { field: 'type', value: payload.type });
      }
    });
  } catch (error) {
    if (error instanceof DecodeError) {
      throw new VerificationError('STAKE_PAYLOAD_MALFORMED', error.message, {
        type: payload.type,
      });
    }
    throw error;
  }
}
