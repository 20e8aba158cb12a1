import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { VerificationError } from '../consensus/errors.ts';
import { DecodeError } from '../encoding/errors.ts';
import { MempoolError } from '../mempool/errors.ts';
import { HexError } from '../util/bytes.ts';
import { UtxodError } from '../util/errors.ts';

/** The one shape every failed request answers with (docs/api.md lists the codes). */
export interface ApiErrorBody {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly details: Record<string, unknown>;
  };
  readonly requestId: string;
}

export class ApiError extends UtxodError<'NOT_FOUND' | 'VALIDATION_ERROR' | 'INTERNAL_ERROR'> {
  readonly statusCode: number;

  constructor(
    statusCode: number,
    code: 'NOT_FOUND' | 'VALIDATION_ERROR' | 'INTERNAL_ERROR',
    message: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, message, details);
    this.statusCode = statusCode;
  }
}

const MEMPOOL_STATUS: Record<string, number> = { MEMPOOL_ALREADY_KNOWN: 409, MEMPOOL_FULL: 503 };

function toBody(error: unknown): {
  status: number;
  code: string;
  message: string;
  details: Record<string, unknown>;
} {
  if (error instanceof ApiError)
    return {
      status: error.statusCode,
      code: error.code,
      message: error.message,
      details: { ...error.details },
    };
  if (error instanceof VerificationError) {
    return { status: 422, code: error.code, message: error.reason, details: { ...error.details } };
  }
  if (error instanceof MempoolError) {
    return {
      status: MEMPOOL_STATUS[error.code] ?? 422,
      code: error.code,
      message: error.reason,
      details: { ...error.details },
    };
  }
  if (error instanceof DecodeError || error instanceof HexError) {
    return { status: 400, code: error.code, message: error.message, details: { ...error.details } };
  }
  const fastifyError = error as FastifyError;
  if (fastifyError.validation !== undefined) {
    return { status: 400, code: 'VALIDATION_ERROR', message: fastifyError.message, details: {} };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    return {
      status: fastifyError.statusCode,
      code: fastifyError.code ?? 'BAD_REQUEST',
      message: fastifyError.message,
      details: {},
    };
  }
  return { status: 500, code: 'INTERNAL_ERROR', message: 'internal error', details: {} };
}

export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, code, message, details } = toBody(error);
  if (status >= 500) request.log.error({ err: error }, 'request failed');
  const body: ApiErrorBody = { error: { code, message, details }, requestId: String(request.id) };
  void reply.status(status).send(body);
}
