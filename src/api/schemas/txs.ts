import { type Static, Type } from 'typebox';
import { MAX_TX_BYTES } from '../../primitives/index.ts';
import { TxJson } from './chain.ts';
import { Amount, FeeRate, Hash32, Height, Timestamp } from './common.ts';

export const TxidParams = Type.Object({ txid: Hash32 }, { additionalProperties: false });

export const TxQuery = Type.Object(
  { hex: Type.Boolean({ default: false, description: 'include the raw transaction hex' }) },
  { additionalProperties: false },
);

export const TxStatusResponse = Type.Object({
  txid: Hash32,
  status: Type.Union([Type.Literal('mempool'), Type.Literal('committed'), Type.Literal('unknown')]),
  height: Type.Optional(Height),
  index: Type.Optional(Type.Integer({ minimum: 0 })),
  blockHash: Type.Optional(Hash32),
  confirmations: Type.Optional(Type.Integer({ minimum: 1 })),
  fee: Type.Optional(Amount),
  feeRate: Type.Optional(FeeRate),
  time: Type.Optional(Timestamp),
  tx: Type.Optional(TxJson),
});
export type TxStatusResponse = Static<typeof TxStatusResponse>;

export const SubmitTxBody = Type.Object(
  {
    hex: Type.String({
      pattern: '^([0-9a-f]{2})+$',
      maxLength: 2 * MAX_TX_BYTES,
      description: 'the signed transaction, lower-case hex',
    }),
  },
  { additionalProperties: false },
);
export type SubmitTxBody = Static<typeof SubmitTxBody>;

export const SubmitTxResponse = Type.Object({
  txid: Hash32,
  status: Type.Union([Type.Literal('accepted'), Type.Literal('orphan')]),
  fee: Type.Optional(Amount),
  missingParents: Type.Optional(Type.Array(Hash32)),
});
export type SubmitTxResponse = Static<typeof SubmitTxResponse>;

export const CoinParams = Type.Object(
  { txid: Hash32, index: Type.Integer({ minimum: 0, maximum: 0xffffffff }) },
  { additionalProperties: false },
);
export const CoinResponse = Type.Object({
  amount: Amount,
  height: Height,
  coinbase: Type.Boolean(),
  lock: Type.Object({ type: Type.Integer(), hash: Hash32 }),
  address: Type.String(),
  spentInMempool: Type.Boolean(),
});
export type CoinResponse = Static<typeof CoinResponse>;
