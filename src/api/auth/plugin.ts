import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, type Registry } from 'prom-client';
import type { AuditLog } from '../../audit/index.ts';
import { AuditAggregator } from '../../audit/index.ts';
import { AuthError } from './errors.ts';
import { type AccessLevel, type RateLimitClass, ROLES, type Role, roleAllows } from './roles.ts';
import type { AuthService } from './service.ts';

/** Requests per window for each kind of client and route class. */
export interface RateLimitSettings {
  readonly windowMs: number;
  /** Unauthenticated clients, per IP, on 'default' routes. */
  readonly anonymous: number;
  /** Authenticated clients, per subject, on 'default' routes. */
  readonly reader: number;
  readonly operator: number;
  readonly admin: number;
  /** 'submit' routes (transaction submission), per subject or IP. */
  readonly submit: number;
  /** 'auth' routes (token exchange, refresh, revoke), always per IP. */
  readonly auth: number;
}

export interface AuthPluginOptions {
  readonly service: AuthService;
  readonly audit: AuditLog;
  readonly metricsRegistry: Registry;
  /** Extra routes served without a token, as "METHOD /url/pattern" (e.g. "GET /api/v1/blocks/:id"). */
  readonly publicRoutes?: readonly string[];
  /** null turns rate limiting off. */
  readonly rateLimit: RateLimitSettings | null;
  /**
   * Refusals of clients without a valid token, per address and window: the
   * first `perKey` are audited one by one, the rest summed into one summary
   * entry (default 5 per 60 s). Refusals of authenticated clients are always audited.
   */
  readonly anonymousAudit?: { readonly windowMs: number; readonly perKey: number };
}

export interface AuthMetrics {
  readonly rateLimited: Counter<'class'>;
  readonly authFailures: Counter<'code'>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The auth plugin's services, for registerAuthRoutes. */
    utxodAuth: { service: AuthService; audit: AuditLog; metrics: AuthMetrics };
  }
}

const VALID_ACCESS: readonly string[] = ['public', ...ROLES];
const VALID_CLASSES: readonly string[] = ['default', 'submit', 'auth'];

/** A token that came with the request but did not verify: refused once the route is known. */
const identifyFailures = new WeakMap<FastifyRequest, AuthError>();
/** Extra details a route handler wants in its audit entry. */
const auditDetails = new WeakMap<FastifyRequest, Record<string, unknown>>();
/** Requests refused by the auth check (already audited as auth.denied). */
const denied = new WeakSet<FastifyRequest>();

/** Adds details to the audit entry written for this (admin) request. */
export function setAuditDetails(request: FastifyRequest, details: Record<string, unknown>): void {
  auditDetails.set(request, { ...auditDetails.get(request), ...details });
}

function metric<T extends string>(
  registry: Registry,
  name: string,
  help: string,
  label: T,
): Counter<T> {
  // Several servers may share one registry (tests); a metric is registered once.
  const existing = registry.getSingleMetric(name);
  if (existing !== undefined) return existing as Counter<T>;
  return new Counter({ name, help, labelNames: [label], registers: [registry] });
}

/** "GET /api/v1/x/:id": the form `publicRoutes` uses; HEAD counts as the GET it mirrors. */
export function routeKey(request: FastifyRequest): string {
  const method = request.method === 'HEAD' ? 'GET' : request.method;
  return `${method} ${request.routeOptions.url ?? request.url}`;
}

function clientLabel(request: FastifyRequest): string {
  return request.auth !== null ? request.auth.subject : `ip:${request.ip}`;
}

async function authPluginImpl(app: FastifyInstance, opts: AuthPluginOptions): Promise<void> {
  const { service, audit } = opts;
  const metrics: AuthMetrics = {
    rateLimited: metric(
      opts.metricsRegistry,
      'utxod_api_rate_limited_total',
      'API requests refused by the rate limiter, by route class',
      'class',
    ),
    authFailures: metric(
      opts.metricsRegistry,
      'utxod_api_auth_failures_total',
      'API authentication and authorisation failures, by error code',
      'code',
    ),
  };
  const publicRoutes = new Set(opts.publicRoutes ?? []);

  const requiredAccess = (request: FastifyRequest): AccessLevel => {
    if (publicRoutes.has(routeKey(request))) return 'public';
    return request.routeOptions.config.auth ?? 'admin';
  };
  const routeClass = (request: FastifyRequest): RateLimitClass =>
    request.routeOptions.config.rateLimitClass ?? 'default';

  const noise = new AuditAggregator(opts.anonymousAudit ?? { windowMs: 60_000, perKey: 5 }, {
    audit,
  });
  app.addHook('onClose', async () => noise.close());

  app.decorateRequest('auth', null);
  app.decorate('utxodAuth', { service, audit, metrics });

  const routeKeys = new Set<string>();
  // A typo in a route's declaration must fail at startup, not open the route.
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routeKeys.add(`${method} ${route.url}`);
    const config = (route.config ?? {}) as { auth?: unknown; rateLimitClass?: unknown };
    if (config.auth !== undefined && !VALID_ACCESS.includes(config.auth as string))
      throw new Error(
        `route ${route.method} ${route.url}: config.auth must be one of ${VALID_ACCESS.join(', ')}`,
      );
    if (
      config.rateLimitClass !== undefined &&
      !VALID_CLASSES.includes(config.rateLimitClass as string)
    )
      throw new Error(
        `route ${route.method} ${route.url}: config.rateLimitClass must be one of ${VALID_CLASSES.join(', ')}`,
      );
  });

  // A publicRoutes entry naming no route opens nothing: say so rather than fail silently.
  app.addHook('onReady', async () => {
    const unknown = [...publicRoutes].filter((key) => !routeKeys.has(key));
    if (unknown.length > 0)
      app.log.warn(
        { event: 'public-routes-unknown', routes: unknown },
        'publicRoutes entries match no route',
      );
  });

  // Identify first (rate limits are keyed by subject), refuse later (after the
  // rate limiter has counted the request, so guessing tokens is rate limited).
  app.addHook('onRequest', (request, _reply, done) => {
    identify(request);
    done();
  });
  function identify(request: FastifyRequest): void {
    let token: string;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header);
      if (match === null) {
        identifyFailures.set(
          request,
          new AuthError(
            'AUTH_TOKEN_MALFORMED',
            'the Authorization header must be "Bearer <token>"',
          ),
        );
        return;
      }
      token = match[1]!;
    } else {
      // Browsers cannot set headers on a WebSocket handshake: only there the
      // token may come as ?access_token= (the API does not log request URLs).
      const query = request.query as Record<string, unknown> | undefined;
      const fromQuery = query?.['access_token'];
      if (request.headers.upgrade?.toLowerCase() !== 'websocket' || typeof fromQuery !== 'string')
        return;
      token = fromQuery;
    }
    try {
      request.auth = service.authenticate(token);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      identifyFailures.set(request, error);
    }
  }

  if (opts.rateLimit !== null) {
    const limits = opts.rateLimit;
    const maxFor = (request: FastifyRequest): number => {
      const cls = routeClass(request);
      if (cls === 'auth') return limits.auth;
      if (cls === 'submit') return limits.submit;
      const role: Role | undefined = request.auth?.role;
      return role === undefined ? limits.anonymous : limits[role];
    };
    await app.register(rateLimit, {
      global: true,
      timeWindow: limits.windowMs,
      max: (request) => maxFor(request),
      keyGenerator: (request) => {
        const cls = routeClass(request);
        // Auth routes are where credentials are guessed: always per address.
        // A token's bucket is its subject *and* role: tokens of different roles
        // minted for one subject (the CLI's) must not starve each other.
        const who =
          cls === 'auth' || request.auth === null
            ? `ip:${request.ip}`
            : `${request.auth.role}|sub:${request.auth.subject}`;
        return `${cls}|${who}`;
      },
      onExceeded: (request) => {
        metrics.rateLimited.inc({ class: routeClass(request) });
      },
      errorResponseBuilder: (request, context) =>
        new AuthError(
          'RATE_LIMITED',
          `rate limit exceeded, retry in ${context.after}`,
          { limit: context.max, windowMs: limits.windowMs, class: routeClass(request) },
          Math.max(1, Math.ceil(context.ttl / 1000)),
        ),
    });
    // Both header families: X-RateLimit-* (widely parsed) and the IETF draft's RateLimit-*.
    app.addHook('onSend', (_request, reply: FastifyReply, payload, done) => {
      copyRateLimitHeaders(reply);
      done(null, payload);
    });
    const copyRateLimitHeaders = (reply: FastifyReply): void => {
      const limit = reply.getHeader('x-ratelimit-limit');
      if (limit === undefined) return;
      void reply.header('ratelimit-limit', limit);
      const remaining = reply.getHeader('x-ratelimit-remaining');
      if (remaining !== undefined) void reply.header('ratelimit-remaining', remaining);
      const reset = reply.getHeader('x-ratelimit-reset');
      if (reset !== undefined) void reply.header('ratelimit-reset', reset);
      void reply.header(
        'ratelimit-policy',
        `${String(limit)};w=${Math.ceil(limits.windowMs / 1000)}`,
      );
    };
  }

  app.addHook('preParsing', (request, reply, payload, done) => {
    const failure = authorize(request, reply);
    if (failure === null) done(null, payload);
    else done(failure);
  });
  function authorize(request: FastifyRequest, reply: FastifyReply): AuthError | null {
    if (request.is404) return null;
    const required = requiredAccess(request);
    let failure = identifyFailures.get(request) ?? null;
    if (failure === null && required !== 'public') {
      if (request.auth === null)
        failure = new AuthError('AUTH_MISSING', 'this route needs a bearer token', { required });
      else if (!roleAllows(request.auth.role, required))
        failure = new AuthError('AUTH_FORBIDDEN', `this route needs the ${required} role`, {
          required,
          role: request.auth.role,
        });
    }
    if (failure === null) return null;
    denied.add(request);
    metrics.authFailures.inc({ code: failure.code });
    if (failure.statusCode === 401)
      void reply.header(
        'www-authenticate',
        `Bearer error="${failure.code === 'AUTH_MISSING' ? 'invalid_request' : 'invalid_token'}"`,
      );
    const event = {
      actor: clientLabel(request),
      action: 'auth.denied',
      outcome: 'failure' as const,
      details: { code: failure.code, route: routeKey(request), required, ip: request.ip },
    };
    // An authenticated client refused (403) is a security event; a client with
    // no valid token is mostly scanner noise: sampled and summed per address.
    if (request.auth !== null) audit.record(event);
    else noise.record(`ip:${request.ip}`, { ...event, code: failure.code });
    return failure;
  }

  // Retry-After for every temporary refusal (lockout, rate limit) that reaches the error handler.
  app.addHook('onError', async (_request, reply, error) => {
    if (
      error instanceof AuthError &&
      error.retryAfterSeconds !== null &&
      !reply.hasHeader('retry-after')
    )
      void reply.header('retry-after', String(error.retryAfterSeconds));
  });

  // Every admin action lands in the audit log, whatever route helper defined it.
  app.addHook('onResponse', (request, reply, done) => {
    recordAdminAction(request, reply);
    done();
  });
  function recordAdminAction(request: FastifyRequest, reply: FastifyReply): void {
    if (request.is404 || denied.has(request) || request.auth === null) return;
    if (requiredAccess(request) !== 'admin') return;
    audit.record({
      actor: request.auth.subject,
      action: request.routeOptions.config.auditAction ?? routeKey(request),
      outcome: reply.statusCode < 400 ? 'success' : 'failure',
      details: {
        ...auditDetails.get(request),
        route: routeKey(request),
        status: reply.statusCode,
        role: request.auth.role,
        tokenId: request.auth.tokenId,
        ip: request.ip,
      },
    });
  }
}

// Marked like fastify-plugin does, so the hooks and decorators apply to the
// whole server rather than to an encapsulated child context.
Object.assign(authPluginImpl, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'utxod-auth',
  [Symbol.for('plugin-meta')]: { name: 'utxod-auth', fastify: '5.x' },
});

/**
 * Enforces every route's `config.auth` (see RouteAuthConfig), rate limits by
 * IP, subject and route class, and audits auth failures and admin actions.
 * Register it before any route: the rate limiter attaches to routes as they
 * are added.
 */
export const authPlugin = authPluginImpl;
