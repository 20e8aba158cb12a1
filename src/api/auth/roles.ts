export const ROLES = ['reader', 'operator', 'admin'] as const;
/** reader < operator < admin: each role may do everything the roles below it may. */
export type Role = (typeof ROLES)[number];
/** What a route requires: 'public' needs no token at all. */
export type AccessLevel = 'public' | Role;
export type RateLimitClass = 'default' | 'submit' | 'auth';

/**
 * What every route declares in its Fastify `config`. A route without `auth`
 * requires 'admin' (fail closed), so a forgotten declaration never opens a route.
 */
export interface RouteAuthConfig {
  readonly auth?: AccessLevel;
  readonly rateLimitClass?: RateLimitClass;
  /** Name of the action in the audit log for admin routes; default "METHOD /url". */
  readonly auditAction?: string;
}

/** Who made an authenticated request: set on `request.auth` once the token verified. */
export interface AuthContext {
  readonly subject: string;
  readonly role: Role;
  /** The access token's jti. */
  readonly tokenId: string;
  /** The signing key id the token carried. */
  readonly keyId: string;
  /** The API key the token was obtained with, when it came from POST /auth/token. */
  readonly apiKeyId: string | null;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

const RANK: Record<Role, number> = { reader: 1, operator: 2, admin: 3 };

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleAllows(role: Role, required: AccessLevel): boolean {
  return required === 'public' || RANK[role] >= RANK[required];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: AccessLevel;
    rateLimitClass?: RateLimitClass;
    auditAction?: string;
  }
  interface FastifyRequest {
    /** Set by the auth plugin when a valid bearer token came with the request. */
    auth: AuthContext | null;
  }
}
