/**
 * Fuzz targets for the JSON bodies the API accepts: the bytes a client
 * sends, parsed as JSON and checked by the server's own validator compiler
 * (src/api/server.ts) against each route's body schema, then decoded the
 * way the handler decodes them (the submitted transaction's hex). An input
 * is rejected with a typed error (what the API answers 400 or 422 with) or
 * accepted; an accepted body re-serialises to a value that is accepted as the
 * same value (JSON has many spellings of one value, so bytes are not compared).
 */

import fc from 'fast-check';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import {
  CreateApiKeyRequest,
  RefreshRequest,
  RevokeRequest,
  TokenRequest,
} from '../../src/api/auth/routes.ts';
import { ApiError } from '../../src/api/errors.ts';
import { LogLevelBody } from '../../src/api/schemas/node.ts';
import { BanBody } from '../../src/api/schemas/peers.ts';
import { SubmitTxBody } from '../../src/api/schemas/txs.ts';
import { validatorCompiler } from '../../src/api/server.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { fromHex, toHex } from '../../src/util/bytes.ts';
import { transactionArb } from '../support/arbitraries.ts';
import type { FuzzTarget } from './targets.ts';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** Bytes -> body as the server sees it, or the typed 400 the server answers with. */
function bodyDecoder(schema: TSchema, after?: (body: unknown) => void): (b: Uint8Array) => unknown {
  const validate = validatorCompiler({
    schema,
    method: 'POST',
    url: '/fuzz',
    httpPart: 'body',
  }) as (value: unknown) => { value?: unknown; error?: unknown };
  return (bytes) => {
    let value: unknown;
    try {
      value = JSON.parse(utf8.decode(bytes));
    } catch (error) {
      // Fastify's JSON parser answers these with 400 (FST_ERR_CTP_INVALID_JSON_BODY).
      if (error instanceof SyntaxError || error instanceof TypeError)
        throw new ApiError(400, 'BAD_REQUEST', `not JSON: ${error.message}`);
      throw error;
    }
    const result = validate(value);
    if (result.error !== undefined) throw new ApiError(400, 'VALIDATION_ERROR', 'schema');
    after?.(result.value);
    return result.value;
  };
}

/** The schema's keys (and one it does not know) with any JSON: mostly invalid, structure-aware. */
function nearBodies(
  schema: TSchema & { properties?: Record<string, unknown> },
): fc.Arbitrary<unknown> {
  const keys = Object.keys(schema.properties ?? {});
  return fc.dictionary(fc.constantFrom(...keys, 'extra'), fc.jsonValue({ maxDepth: 2 }), {
    maxKeys: keys.length + 1,
  });
}

/** Valid bodies: TypeBox's own example of the schema, and near bodies that happen to be valid. */
function bodies(schema: TSchema): fc.Arbitrary<unknown> {
  const example = Value.Create(schema);
  return fc.oneof(
    fc.constant(example),
    nearBodies(schema).map((body) => (Value.Check(schema, body) ? body : example)),
  );
}

function bodyTarget(name: string, schema: TSchema): FuzzTarget {
  return {
    name: `api-body-${name}`,
    valid: bodies(schema).map(json),
    extra: nearBodies(schema).map(json),
    decode: bodyDecoder(schema),
    encode: json,
    sameValue: true,
  };
}

export const API_TARGETS: readonly FuzzTarget[] = [
  {
    name: 'api-body-submit-tx',
    valid: transactionArb.map((tx) => json({ hex: toHex(tx.encode()) })),
    extra: nearBodies(SubmitTxBody).map(json),
    // The handler's own decoding after the schema: typed errors (400/422) only.
    decode: bodyDecoder(SubmitTxBody, (body) => {
      Transaction.decode(fromHex((body as { hex: string }).hex));
    }),
    encode: json,
    sameValue: true,
  },
  bodyTarget('auth-token', TokenRequest),
  bodyTarget('auth-refresh', RefreshRequest),
  bodyTarget('auth-revoke', RevokeRequest),
  bodyTarget('admin-api-key', CreateApiKeyRequest),
  bodyTarget('admin-log-level', LogLevelBody),
  bodyTarget('admin-ban', BanBody),
];
