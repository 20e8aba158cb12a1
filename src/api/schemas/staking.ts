import { type Static, type TSchema, Type } from 'typebox';
import { Address, Amount, Hash32, Height, Hex, Limit, Timestamp } from './common.ts';

/** 33-byte compressed secp256k1 public key, lower-case hex. */
export const PublicKeyHex = Type.String({
  pattern: '^0[23][0-9a-f]{64}$',
  description: '33-byte compressed public key, lower-case hex',
});

export const ValidatorStatus = Type.Union(
  [
    Type.Literal('active'),
    Type.Literal('jailed'),
    Type.Literal('tombstoned'),
    Type.Literal('inactive'),
  ],
  {
    description:
      'tombstoned: slashed for double signing, for good; jailed: removed for downtime until unjailed; active: in the current set; inactive: registered, not in the set',
  },
);

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ValidatorSummary = Type.Object({
  index: Type.Integer({ description: 'position in the set (the index in commit certificates)' }),
  publicKey: Hex,
  power: Amount,
  status: ValidatorStatus,
  validatorId: Nullable(Hash32),
  operator: Nullable(Address),
  bonded: Nullable(Amount),
  jailedUntil: Nullable(Timestamp),
  missedBlocks: Nullable(Type.Integer({ minimum: 0 })),
});

export const ValidatorsResponse = Type.Object({
  hash: Hash32,
  totalPower: Amount,
  height: Height,
  signedBlocksWindow: Nullable(Type.Integer({ minimum: 1 })),
  validators: Type.Array(ValidatorSummary),
});
export type ValidatorsResponse = Static<typeof ValidatorsResponse>;

export const ValidatorParams = Type.Object(
  {
    id: Type.String({
      pattern: '^[0-9a-f]{64}$|^0[23][0-9a-f]{64}$',
      description: 'validator id (the operator address program, 32 bytes hex) or a consensus key',
    }),
  },
  { additionalProperties: false },
);

export const UnbondingJson = Type.Object({
  creationHeight: Height,
  amount: Amount,
  completesAt: Timestamp,
});

export const ValidatorResponse = Type.Object({
  validatorId: Hash32,
  operator: Address,
  operatorKey: PublicKeyHex,
  consensusKey: PublicKeyHex,
  status: ValidatorStatus,
  index: Nullable(Type.Integer()),
  power: Amount,
  bonded: Amount,
  jailedUntil: Nullable(Timestamp),
  tombstoned: Type.Boolean(),
  missedBlocks: Type.Integer({ minimum: 0 }),
  observedBlocks: Type.Integer({ minimum: 0 }),
  signedBlocksWindow: Type.Integer({ minimum: 1 }),
  createdHeight: Height,
  lastRotation: Nullable(Timestamp),
  unbonding: Type.Array(UnbondingJson),
  unbondingTruncated: Type.Boolean(),
});
export type ValidatorResponse = Static<typeof ValidatorResponse>;

export const EvidenceQuery = Type.Object(
  { limit: Limit(500, 100), after: Type.Optional(Hash32) },
  { additionalProperties: false },
);

export const EvidenceResponse = Type.Object({
  items: Type.Array(
    Type.Object({
      kind: Type.Literal('duplicate-vote'),
      validatorId: Hash32,
      operator: Address,
      consensusKey: PublicKeyHex,
      bonded: Amount,
    }),
  ),
  next: Type.Union([Hash32, Type.Null()], { description: 'pass as `after` for the next page' }),
  pending: Type.Array(
    Type.Object({
      consensusKey: PublicKeyHex,
      height: Height,
      round: Type.Integer({ minimum: 0 }),
      voteType: Type.Union([Type.Literal('prevote'), Type.Literal('precommit')]),
    }),
    {
      description:
        'verified evidence in this validator node’s pool, not committed yet (always empty on a node without a consensus engine)',
    },
  ),
});
export type EvidenceResponse = Static<typeof EvidenceResponse>;

export const ConsensusResponse = Type.Object({
  height: Height,
  round: Type.Integer({ minimum: 0 }),
  step: Type.String(),
  lockedRound: Type.Integer({ minimum: -1 }),
  validRound: Type.Integer({ minimum: -1 }),
  proposer: Nullable(Type.Object({ index: Type.Integer(), publicKey: PublicKeyHex })),
  lastRoundChange: Nullable(
    Type.Object({ height: Height, round: Type.Integer({ minimum: 0 }), at: Nullable(Timestamp) }),
  ),
  rounds: Type.Array(
    Type.Object({
      round: Type.Integer({ minimum: 0 }),
      prevotes: Type.Integer({ minimum: 0 }),
      precommits: Type.Integer({ minimum: 0 }),
      proposal: Type.Boolean(),
    }),
  ),
});
export type ConsensusResponse = Static<typeof ConsensusResponse>;
