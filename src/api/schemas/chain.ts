import { type Static, Type } from 'typebox';
import { Address, Amount, Hash32, Height, Hex, Timestamp } from './common.ts';

export const TipResponse = Type.Object({
  height: Height,
  hash: Hash32,
  time: Timestamp,
  utxoRoot: Hash32,
  chainId: Type.String(),
});
export type TipResponse = Static<typeof TipResponse>;

export const ChainInfoResponse = Type.Object({
  chainId: Type.String(),
  network: Type.Union([Type.Literal('mainnet'), Type.Literal('testnet'), Type.Literal('devnet')]),
  addressPrefix: Type.String({ description: 'bech32m human-readable part of addresses' }),
  genesisHash: Hash32,
  genesisTime: Timestamp,
  tip: Type.Object({ height: Height, hash: Hash32, time: Timestamp }),
  params: Type.Object({
    coinbaseMaturity: Type.Integer(),
    initialSubsidy: Amount,
    halvingInterval: Type.Integer(),
    maxBlockBytes: Type.Integer(),
    maxTxBytes: Type.Integer(),
    maxFutureBlockTimeMs: Type.Integer(),
    checkpointInterval: Type.Integer(),
  }),
});
export type ChainInfoResponse = Static<typeof ChainInfoResponse>;

export const HeaderJson = Type.Object({
  hash: Hash32,
  version: Type.Integer(),
  height: Height,
  time: Timestamp,
  prevHash: Hash32,
  txRoot: Hash32,
  utxoRoot: Hash32,
  stateRoot: Hash32,
  validatorSetHash: Hash32,
  lastCommitHash: Hash32,
  proposer: Hex,
});
export type HeaderJson = Static<typeof HeaderJson>;

export const CommitJson = Type.Object({
  height: Height,
  round: Type.Integer({ minimum: 0 }),
  blockHash: Hash32,
  signatures: Type.Array(Type.Object({ validatorIndex: Type.Integer(), signature: Hex })),
});
export type CommitJson = Static<typeof CommitJson>;

export const TxOutputJson = Type.Object({
  index: Type.Integer({ minimum: 0 }),
  amount: Amount,
  lock: Type.Object({ type: Type.Integer(), hash: Hash32 }),
  address: Address,
});

export const TxJson = Type.Object({
  txid: Hash32,
  wtxid: Hash32,
  version: Type.Integer(),
  size: Type.Integer(),
  coinbase: Type.Boolean(),
  lockTime: Type.Integer({ minimum: 0 }),
  inputs: Type.Array(
    Type.Object({
      prevout: Type.Object({ txid: Hash32, index: Type.Integer({ minimum: 0 }) }),
      publicKey: Type.Union([Hex, Type.Null()]),
      signature: Type.Union([Hex, Type.Null()]),
    }),
  ),
  outputs: Type.Array(TxOutputJson),
  payload: Type.Union([Type.Object({ type: Type.Integer(), data: Hex }), Type.Null()]),
  hex: Type.Optional(Hex),
});
export type TxJson = Static<typeof TxJson>;

export const BlockResponse = Type.Object({
  hash: Hash32,
  height: Height,
  size: Type.Integer(),
  txCount: Type.Integer(),
  header: HeaderJson,
  lastCommit: CommitJson,
  commit: Type.Union([CommitJson, Type.Null()], {
    description: 'the certificate that made this block final',
  }),
  txids: Type.Array(Hash32),
  txs: Type.Optional(Type.Array(TxJson)),
});
export type BlockResponse = Static<typeof BlockResponse>;

export const BlockQuery = Type.Object(
  {
    txs: Type.Boolean({ default: false, description: 'include the decoded transactions' }),
  },
  { additionalProperties: false },
);

export const BlockByHeightParams = Type.Object({ height: Height }, { additionalProperties: false });
export const BlockByHashParams = Type.Object({ hash: Hash32 }, { additionalProperties: false });

export const MAX_HEADERS = 500;
export const HeadersQuery = Type.Object(
  {
    from: Height,
    count: Type.Integer({ minimum: 1, maximum: MAX_HEADERS, default: 100 }),
  },
  { additionalProperties: false },
);
export const HeadersResponse = Type.Object({ headers: Type.Array(HeaderJson) });
export type HeadersResponse = Static<typeof HeadersResponse>;
