import { type Static, Type } from 'typebox';
import { Address, Amount, Hash32, Height, Limit } from './common.ts';

export const AddressParams = Type.Object({ address: Address }, { additionalProperties: false });

export const BalanceResponse = Type.Object({
  address: Address,
  confirmed: Amount,
  confirmedCoins: Type.Integer({ minimum: 0 }),
  /** Confirmed coins that a mempool transaction spends. */
  pendingOut: Amount,
  /** Outputs to this address in mempool transactions. */
  pendingIn: Amount,
  /** confirmed - pendingOut + pendingIn: what the wallet may spend once the pool confirms. */
  available: Amount,
});
export type BalanceResponse = Static<typeof BalanceResponse>;

/** "txid:index" of the last coin of the previous page. */
export const CoinCursor = Type.String({ pattern: '^[0-9a-f]{64}:\\d{1,10}$' });

export const UtxosQuery = Type.Object(
  { limit: Limit(1000, 100), after: Type.Optional(CoinCursor) },
  { additionalProperties: false },
);
export const UtxosResponse = Type.Object({
  address: Address,
  items: Type.Array(
    Type.Object({
      txid: Hash32,
      index: Type.Integer({ minimum: 0 }),
      amount: Amount,
      height: Height,
      coinbase: Type.Boolean(),
      spentInMempool: Type.Boolean(),
    }),
  ),
  next: Type.Union([CoinCursor, Type.Null()], { description: 'pass as `after` for the next page' }),
});
export type UtxosResponse = Static<typeof UtxosResponse>;

export const HistoryQuery = Type.Object(
  {
    limit: Limit(1000, 100),
    before: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 0x100000000, description: 'only heights below this' }),
    ),
  },
  { additionalProperties: false },
);
export const HistoryResponse = Type.Object({
  address: Address,
  items: Type.Array(Type.Object({ txid: Hash32, height: Height, position: Type.Integer() })),
  next: Type.Union([Type.Integer(), Type.Null()], {
    description: 'pass as `before` for the next (older) page',
  }),
});
export type HistoryResponse = Static<typeof HistoryResponse>;
