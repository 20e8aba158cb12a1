import { type Static, Type } from 'typebox';

/** A libp2p peer id in its base58 text form (Ed25519/secp256k1 identity keys). */
export const PeerIdText = Type.String({ pattern: '^[1-9A-HJ-NP-Za-km-z]{32,128}$' });

export const PeerParams = Type.Object({ peerId: PeerIdText }, { additionalProperties: false });

export const PeerListResponse = Type.Object({
  peers: Type.Array(
    Type.Object({
      peerId: Type.String(),
      remoteAddr: Type.String(),
      direction: Type.Union([Type.Literal('inbound'), Type.Literal('outbound')]),
      score: Type.Number(),
      status: Type.Union([
        Type.Null(),
        Type.Object({
          tipHeight: Type.Integer(),
          tipHash: Type.String(),
          protocolVersion: Type.Integer(),
        }),
      ]),
    }),
  ),
});
export type PeerListResponse = Static<typeof PeerListResponse>;

export const BanRecordSchema = Type.Object({
  peerId: Type.String(),
  bannedAt: Type.Integer(),
  expiresAt: Type.Integer(),
  reason: Type.String(),
});

export const BanListResponse = Type.Object({ bans: Type.Array(BanRecordSchema) });

export const BanBody = Type.Object(
  {
    durationMs: Type.Optional(Type.Integer({ minimum: 1000, maximum: 365 * 24 * 3_600_000 })),
    reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const UnbanResponse = Type.Object({ unbanned: Type.Boolean() });
