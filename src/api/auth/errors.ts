import { UtxodError } from '../../util/index.ts';

/** Every code the auth layer answers with, and its HTTP status (docs/auth.md lists them). */
export const AUTH_ERROR_STATUS = {
  /** No credentials on a route that needs them. */
  AUTH_MISSING: 401,
  /** Not a JWT, no kid, missing or ill-typed claims, or not `Authorization: Bearer <token>`. */
  AUTH_TOKEN_MALFORMED: 401,
  /** Signature does not verify, or the signing key is unknown or retired. */
  AUTH_TOKEN_INVALID: 401,
  AUTH_TOKEN_EXPIRED: 401,
  /** The token id, its refresh family or its API key was revoked. */
  AUTH_TOKEN_REVOKED: 401,
  /** Authenticated, but the role is below what the route requires. */
  AUTH_FORBIDDEN: 403,
  /** Unknown, malformed or wrong API key. */
  AUTH_INVALID_CREDENTIALS: 401,
  /** Unknown or malformed refresh token. */
  AUTH_REFRESH_INVALID: 401,
  AUTH_REFRESH_EXPIRED: 401,
  /** An already used refresh token came back: the whole family is now revoked. */
  AUTH_REFRESH_REUSED: 401,
  /** Too many failed attempts for this key id or client IP; see Retry-After. */
  AUTH_LOCKED_OUT: 429,
  /** Request rate above the limit for this client and route class; see Retry-After. */
  RATE_LIMITED: 429,
  API_KEY_NOT_FOUND: 404,
  /** A token subject that is not 1-64 characters [A-Za-z0-9._:@-], or claims an API key's `key:` prefix. */
  AUTH_INVALID_SUBJECT: 400,
} as const;

export type AuthErrorCode = keyof typeof AUTH_ERROR_STATUS;

/** An auth or abuse-protection refusal: mapped by src/api/errors.ts to its status and the common body. */
export class AuthError extends UtxodError<AuthErrorCode> {
  readonly statusCode: number;
  /** Seconds a client should wait (sent as Retry-After) when the refusal is temporary. */
  readonly retryAfterSeconds: number | null;

  constructor(
    code: AuthErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    retryAfterSeconds: number | null = null,
  ) {
    super(code, message, retryAfterSeconds === null ? details : { ...details, retryAfterSeconds });
    this.statusCode = AUTH_ERROR_STATUS[code];
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
