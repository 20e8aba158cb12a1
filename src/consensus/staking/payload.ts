import { isValidPublicKey } from '../../crypto/index.ts';
import { DecodeError, decodeExact, type Reader } from '../../encoding/index.ts';
import {
  isValidAmount,
  PUBKEY_SIZE,
  type StakingPayload,
  StakingPayloadType,
  type TxPayload,
} from '../../primitives/index.ts';
import { VerificationError } from '../errors.ts';

// The staking rules and evidence checks import the key check from here.
export { isValidPublicKey } from '../../crypto/index.ts';
// The encoder lives in primitives so the wallet SDK can build payloads
// (src/client may not import consensus); one encoder, re-exported here.
export {
  encodeStakingPayload,
  isStakingPayloadType,
  MAX_STAKING_PAYLOAD_BYTES,
  type StakingPayload,
  StakingPayloadType,
} from '../../primitives/index.ts';

/** A compressed secp256k1 point that is on the curve. */
export function readConsensusKey(r: Reader, field: string): Uint8Array {
  const key = r.bytes(PUBKEY_SIZE, field);
  if (!isValidPublicKey(key)) {
    throw new DecodeError('invalid-value', r.what, { field, reason: 'not a compressed point' });
  }
  return key;
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
