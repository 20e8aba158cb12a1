import { Writer } from '../encoding/index.ts';
import type { TxPayload } from './transaction.ts';

/**
 * The encoding half of the staking payloads (docs/staking.md "Payloads"). It
 * lives here, below consensus, because the wallet SDK (src/client, which may
 * only import util, encoding, crypto and primitives) builds these payloads;
 * the strict decoder and the rules stay in src/consensus/staking, which
 * re-exports this file so there is one encoder.
 *
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
