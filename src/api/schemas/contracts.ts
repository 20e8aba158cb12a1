import { type Static, Type } from 'typebox';
import { Address, Hash32, Height, Hex } from './common.ts';

export const ContractParams = Type.Object(
  { id: Hash32 },
  { additionalProperties: false, description: 'contract id (the tagged hash of its deploy txid)' },
);

export const ContractQuerystring = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1000,
        default: 100,
        description: 'storage entries listed at most',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StorageEntryJson = Type.Object({
  key: Type.Union([Type.String(), Type.Null()], {
    description:
      'storage key; null when the key was longer than 64 bytes and only its hash is stored',
  }),
  stateKey: Hex,
  value: Type.String({ description: 'canonical contract-value text (docs/contracts.md)' }),
});

export const ContractResponse = Type.Object({
  id: Hash32,
  address: Address,
  codeHash: Hash32,
  codeSize: Type.Integer({ minimum: 0, description: 'source bytes' }),
  methods: Type.Array(Type.String()),
  deployHeight: Height,
  deployTxid: Hash32,
  /** Entries in key order, at most `limit`. */
  storage: Type.Array(StorageEntryJson),
  storageTruncated: Type.Boolean({ description: 'more entries exist than listed' }),
});
export type ContractResponse = Static<typeof ContractResponse>;

export const StorageParams = Type.Object(
  { id: Hash32, key: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const StorageQuerystring = Type.Object(
  {
    height: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 0xffffffff,
        description:
          'block whose stateRoot the proof is against (default: the tip; retained heights only)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StorageProofResponse = Type.Object({
  key: Type.String(),
  value: Type.Union([Type.String(), Type.Null()], {
    description: 'canonical contract-value text, or null: the proof then shows the key is absent',
  }),
  height: Height,
  stateRoot: Hash32,
  stateKey: Hex,
  proof: Type.String({
    pattern: '^([0-9a-f]{2})*$',
    description: 'state proof, encoded as docs/state.md describes (verifyProof in the SDK)',
  }),
});
export type StorageProofResponse = Static<typeof StorageProofResponse>;

export const ContractQueryBody = Type.Object(
  {
    method: Type.String({ minLength: 1, maxLength: 64 }),
    args: Type.String({
      maxLength: 16 * 1024,
      default: '[]',
      description: 'canonical contract-value text of an array',
    }),
    gasLimit: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: 'gas cap (default and most: the most a call may use)',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ContractQueryResponse = Type.Object({
  ok: Type.Boolean(),
  gasUsed: Type.Integer({ minimum: 0 }),
  height: Height,
  value: Type.Optional(Type.String({ description: 'canonical contract-value text' })),
  error: Type.Optional(Type.Object({ code: Type.String(), reason: Type.String() })),
});
export type ContractQueryResponse = Static<typeof ContractQueryResponse>;
