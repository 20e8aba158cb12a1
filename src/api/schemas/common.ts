import { type Static, type TSchema, Type } from 'typebox';

/** 32 bytes as lower-case hex: txids, block hashes, lock hashes. */
export const Hash32 = Type.String({
  pattern: '^[0-9a-f]{64}$',
  description: '32 bytes, lower-case hex',
});
export const Hex = Type.String({
  pattern: '^([0-9a-f]{2})*$',
  description: 'bytes, lower-case hex',
});
/** Money never goes through a JSON number: base units as a decimal string. */
export const Amount = Type.String({
  pattern: '^\\d{1,20}$',
  description: 'base units, decimal string',
});
export const FeeRate = Type.String({
  pattern: '^\\d{1,20}$',
  description: 'base units per 1000 bytes, decimal string',
});
export const Height = Type.Integer({ minimum: 0, maximum: 0xffffffff });
export const Address = Type.String({
  minLength: 8,
  maxLength: 90,
  description: 'bech32m address for this chain’s network',
});
export const Timestamp = Type.Integer({ minimum: 0, description: 'milliseconds since the epoch' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'stable machine-readable code (docs/api.md)' }),
      message: Type.String(),
      details: Type.Object({}, { additionalProperties: true }),
    }),
    requestId: Type.String(),
  },
  {
    $id: 'ApiError',
    description: 'Every failed request answers with this shape (codes in docs/api.md).',
    examples: [
      {
        error: {
          code: 'AUTH_MISSING',
          message: 'this route needs a bearer token',
          details: { required: 'reader' },
        },
        requestId: '6f1c2a5e-0b9d-4f7e-9a51-2d3c4b5a6978',
      },
      {
        error: {
          code: 'RATE_LIMITED',
          message: 'rate limit exceeded, retry in 12 seconds',
          details: { limit: 300, windowMs: 60000, class: 'default', retryAfterSeconds: 12 },
        },
        requestId: 'b2f0c1d4-3e5a-4c6b-8d7e-9f0a1b2c3d4e',
      },
    ],
  },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** Reference to the shared error schema (added once with `app.addSchema(ErrorBody)`). */
export const ErrorRef = Type.Unsafe<ErrorBody>({ $ref: 'ApiError#' });

/**
 * The error responses every route may give: declared on each route so the
 * OpenAPI document lists them and the serializer never drops their fields.
 */
export function withErrors<T extends Record<number, TSchema>>(
  ok: T,
  extra: readonly number[] = [],
): T & Record<number, TSchema> {
  const out: Record<number, TSchema> = { ...ok };
  for (const status of [400, 401, 403, 429, 500, ...extra]) out[status] = ErrorRef;
  return out as T & Record<number, TSchema>;
}

/** Query limit shared by the paged routes. */
export function Limit(max: number, fallback: number) {
  return Type.Integer({ minimum: 1, maximum: max, default: fallback });
}
