import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { VerificationError } from '../consensus/index.ts';
import { AddressError } from '../crypto/index.ts';
import { DecodeError } from '../encoding/index.ts';
import { MempoolError } from '../mempool/index.ts';
import { HexError, UtxodError } from '../util/index.ts';

/** The one shape every failed request answers with (docs/api.md lists the codes). */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: Record<string, unknown>;
  };
  readonly requestId: string;
}

/** Codes the API layer itself raises (consensus, mempool and decoding codes pass through). */
export const API_ERROR_CODES = {
  BAD_REQUEST: 400,
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  /** Below the height this node's chain starts at (it began from a snapshot). */
  PRUNED: 410,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPGRADE_REQUIRED: 426,
  RATE_LIMITED: 429,
  RESULT_TOO_LARGE: 422,
  INTERNAL_ERROR: 500,
  NOT_IMPLEMENTED: 501,
  SERVICE_UNAVAILABLE: 503,
  /** The node is state-syncing: its chain is not there yet (docs/operations.md). */
  STATE_SYNC_IN_PROGRESS: 503,
} as const;

export type ApiErrorCode = keyof typeof API_ERROR_CODES;

export class ApiError extends UtxodError<ApiErrorCode> {
  readonly statusCode: number;

  constructor(
    statusCode: number,
    code: ApiErrorCode,
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details);
    this.statusCode = statusCode;
  }
}

/**
 * A route that reads the chain, asked while state sync builds it: the node is
 * alive and working, just not there yet. Retry-After is the sync's own ETA
 * (bounded), so clients back off for about as long as it needs.
 */
export class StateSyncInProgressError extends ApiError {
  readonly retryAfterSeconds: number;

  constructor(
    progress: {
      readonly phase: string;
      readonly chunksDone: number;
      readonly chunksTotal: number;
      readonly etaSeconds: number | null;
    } | null,
  ) {
    super(
      503,
      'STATE_SYNC_IN_PROGRESS',
      'state sync in progress: this node has no chain to answer from yet',
      progress === null
        ? {}
        : {
            phase: progress.phase,
            chunksDone: progress.chunksDone,
            chunksTotal: progress.chunksTotal,
          },
    );
    this.retryAfterSeconds = Math.min(Math.max(progress?.etaSeconds ?? 10, 1), 300);
  }
}

/** Status for each mempool policy code; the rest are 422 (understood, refused). */
const MEMPOOL_STATUS: Record<string, number> = { MEMPOOL_ALREADY_KNOWN: 409, MEMPOOL_FULL: 503 };

/** Fastify's own error codes mapped onto ours, so clients never see FST_* codes. */
const FASTIFY_CODES: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_CTP_INVALID_JSON_BODY: 'BAD_REQUEST',
  FST_ERR_RATE_LIMIT: 'RATE_LIMITED',
  FST_ERR_MAX_PARAM_LENGTH: 'URI_TOO_LONG',
  FST_ERR_BAD_URL: 'BAD_REQUEST',
};

/** Details must survive JSON: bigints become decimal strings, bytes hex, nothing nested deeper. */
function jsonSafe(details: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (typeof value === 'bigint') out[key] = value.toString();
    else if (value instanceof Uint8Array) out[key] = Buffer.from(value).toString('hex');
    else if (
      value === null ||
      typeof value === 'string' ||
      typeof value === 'number' ||
      typeof value === 'boolean'
    )
      out[key] = value;
    else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) out[key] = value;
  }
  return out;
}

interface Failure {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
}

export function describeError(error: unknown): Failure {
  if (error instanceof ApiError)
    return {
      status: error.statusCode,
      code: error.code,
      message: error.message,
      details: jsonSafe(error.details),
    };
  // A rejected transaction names the exact rule: code, reason, and the peer penalty.
  if (error instanceof VerificationError) {
    return {
      status: 422,
      code: error.code,
      message: error.reason,
      details: { ...jsonSafe(error.details), rule: 'consensus', penalty: error.penalty },
    };
  }
  if (error instanceof MempoolError) {
    return {
      status: MEMPOOL_STATUS[error.code] ?? 422,
      code: error.code,
      message: error.reason,
      details: { ...jsonSafe(error.details), rule: 'policy' },
    };
  }
  // Other layers' refusals (auth) carry their own HTTP status next to the code.
  if (
    error instanceof UtxodError &&
    typeof (error as { statusCode?: unknown }).statusCode === 'number'
  ) {
    const status = (error as UtxodError & { statusCode: number }).statusCode;
    return {
      status,
      code: error.code,
      message: status >= 500 ? 'internal error' : error.message,
      details: status >= 500 ? {} : jsonSafe(error.details),
    };
  }
  if (error instanceof DecodeError || error instanceof HexError || error instanceof AddressError) {
    return {
      status: 400,
      code: error.code,
      message: error.message,
      details: jsonSafe(error.details),
    };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    return {
      status: 400,
      code: 'VALIDATION_ERROR',
      message: fastifyError.message,
      details: {
        context: fastifyError.validationContext ?? 'request',
        issues: fastifyError.validation.map(
          (v) =>
            `${v.instancePath === '' ? '(root)' : v.instancePath} ${v.message ?? 'is invalid'}`,
        ),
      },
    };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const mapped = fastifyError.code === undefined ? undefined : FASTIFY_CODES[fastifyError.code];
    const status = fastifyError.statusCode;
    return {
      status,
      code: mapped ?? (status === 429 ? 'RATE_LIMITED' : 'BAD_REQUEST'),
      // Fastify's messages echo the whole URL back: say what was wrong, not the input.
      message:
        mapped === 'URI_TOO_LONG'
          ? 'a path parameter is longer than 200 characters'
          : fastifyError.message,
      details: {},
    };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal error', details: {} };
}

export function errorBody(request: FastifyRequest, failure: Failure): ApiErrorBody {
  return {
    error: { code: failure.code, message: failure.message, details: failure.details },
    requestId: String(request.id),
  };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const failure = describeError(error);
  // The stack goes to the log only: a client learns the request id, never internals.
  if (failure.code === 'INTERNAL_ERROR') request.log.error({ err: error }, 'request failed');
  else if (failure.status >= 500)
    request.log.warn({ code: failure.code, reason: failure.message }, 'request refused');
  const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === 'number') void reply.header('retry-after', String(retryAfter));
  void reply.status(failure.status).send(errorBody(request, failure));
}
