import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type Static, Type } from 'typebox';
import { toHex } from '../../util/index.ts';
import { ErrorBody, withErrors } from '../schemas/common.ts';
import { AuthError } from './errors.ts';
import { setAuditDetails } from './plugin.ts';
import { ROLES } from './roles.ts';

const RoleSchema = Type.Union(ROLES.map((r) => Type.Literal(r)));

export const TokenRequest = Type.Object(
  { apiKey: Type.String({ minLength: 1, maxLength: 200, description: 'utxod_ak_<id>_<secret>' }) },
  { additionalProperties: false },
);
export const RefreshRequest = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);
export const RevokeRequest = Type.Object(
  {
    token: Type.String({
      minLength: 1,
      maxLength: 4096,
      description: 'an access or refresh token',
    }),
  },
  { additionalProperties: false },
);
export const TokenResponse = Type.Object({
  accessToken: Type.String(),
  tokenType: Type.Literal('Bearer'),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  refreshToken: Type.String({ description: 'single use: each refresh returns a new one' }),
  refreshExpiresAt: Type.Integer({ description: 'milliseconds since the epoch' }),
  role: RoleSchema,
  subject: Type.String(),
});
export const RevokeResponse = Type.Object({
  revoked: Type.Boolean(),
  kind: Type.Union([Type.Literal('access'), Type.Literal('refresh'), Type.Null()]),
});
export const CreateApiKeyRequest = Type.Object(
  { role: RoleSchema, label: Type.Optional(Type.String({ maxLength: 100 })) },
  { additionalProperties: false },
);
const ApiKeyInfo = Type.Object({
  id: Type.String(),
  role: RoleSchema,
  label: Type.String(),
  createdAt: Type.Integer(),
  createdBy: Type.String(),
});
export const CreateApiKeyResponse = Type.Object({
  ...ApiKeyInfo.properties,
  key: Type.String({ description: 'the secret API key: shown this once, never stored' }),
});
export const ApiKeyList = Type.Object({ keys: Type.Array(ApiKeyInfo) });
export const ApiKeyParams = Type.Object({ id: Type.String({ pattern: '^[0-9a-f]{16}$' }) });
export const DeleteApiKeyResponse = Type.Object({ id: Type.String(), deleted: Type.Boolean() });
export const AuditQuery = Type.Object(
  {
    from: Type.Optional(
      Type.Integer({ minimum: 0, description: 'first seq (asc) or last seq (desc)' }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
    order: Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' }),
  },
  { additionalProperties: false },
);
const AuditEntrySchema = Type.Object({
  seq: Type.Integer(),
  time: Type.Integer(),
  actor: Type.String(),
  action: Type.String(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  details: Type.Object({}, { additionalProperties: true }),
  prevHash: Type.String(),
  hash: Type.String(),
});
export const AuditPageResponse = Type.Object({
  entries: Type.Array(AuditEntrySchema),
  next: Type.Union([Type.Integer(), Type.Null()]),
  head: Type.Object({ seq: Type.Integer(), hash: Type.String() }),
});
export const RotateResponse = Type.Object({
  current: Type.Object({ kid: Type.String(), createdAt: Type.Integer() }),
  retired: Type.Object({ kid: Type.String(), retiresAt: Type.Integer() }),
});

/**
 * Registers the token routes (/api/v1/auth/*) and the admin routes for API
 * keys, the audit log and signing-key rotation. Needs authPlugin registered
 * on `app` first.
 */
export function registerAuthRoutes(app: FastifyInstance): void {
  if (!app.hasDecorator('utxodAuth'))
    throw new Error('register authPlugin before registerAuthRoutes');
  const { service, audit, metrics } = app.utxodAuth;
  // The error responses reference the shared schema; ApiServer adds it, a bare app may not have.
  if (app.getSchema('ApiError') === undefined) app.addSchema(ErrorBody);

  /** Audits a credential exchange either way; failures also count in the metric. */
  async function audited<T>(
    request: FastifyRequest,
    action: string,
    details: Record<string, unknown>,
    run: () => Promise<T>,
    actorOf: (result: T) => string,
  ): Promise<T> {
    try {
      const result = await run();
      audit.record({
        actor: actorOf(result),
        action,
        outcome: 'success',
        details: { ...details, ip: request.ip },
      });
      return result;
    } catch (error) {
      if (error instanceof AuthError) {
        metrics.authFailures.inc({ code: error.code });
        audit.record({
          actor: `ip:${request.ip}`,
          action,
          outcome: 'failure',
          details: { ...details, code: error.code, ip: request.ip },
        });
      }
      throw error;
    }
  }

  app.post<{ Body: Static<typeof TokenRequest> }>(
    '/api/v1/auth/token',
    {
      config: { auth: 'public', rateLimitClass: 'auth', duringStateSync: true },
      schema: {
        tags: ['auth'],
        summary: 'Exchange an API key for an access token and a refresh token',
        body: TokenRequest,
        response: withErrors({ 200: TokenResponse }),
      },
    },
    async (request) => {
      const keyId = /^utxod_ak_([0-9a-f]{16})_/.exec(request.body.apiKey)?.[1] ?? null;
      return audited(
        request,
        'auth.token',
        { apiKeyId: keyId },
        () => service.exchangeApiKey(request.body.apiKey, request.ip),
        (pair) => pair.subject,
      );
    },
  );

  app.post<{ Body: Static<typeof RefreshRequest> }>(
    '/api/v1/auth/refresh',
    {
      config: { auth: 'public', rateLimitClass: 'auth', duringStateSync: true },
      schema: {
        tags: ['auth'],
        summary: 'Trade a refresh token for a new pair; the old one is spent',
        body: RefreshRequest,
        response: withErrors({ 200: TokenResponse }),
      },
    },
    async (request) =>
      audited(
        request,
        'auth.refresh',
        {},
        () => service.refresh(request.body.refreshToken, request.ip),
        (pair) => pair.subject,
      ),
  );

  app.post<{ Body: Static<typeof RevokeRequest> }>(
    '/api/v1/auth/revoke',
    {
      config: { auth: 'public', rateLimitClass: 'auth', duringStateSync: true },
      schema: {
        tags: ['auth'],
        summary: 'Revoke an access token, or a refresh token with its whole family',
        body: RevokeRequest,
        response: withErrors({ 200: RevokeResponse }),
      },
    },
    async (request) => {
      const result = await service.revoke(request.body.token);
      audit.record({
        actor: result.subject ?? `ip:${request.ip}`,
        action: 'auth.revoke',
        outcome: result.revoked ? 'success' : 'failure',
        details: { kind: result.kind, ip: request.ip },
      });
      return { revoked: result.revoked, kind: result.kind };
    },
  );

  // Public keys of the EdDSA token keys, so a gateway or another service can
  // verify access tokens without any secret (RFC 7517 key set).
  app.get(
    '/.well-known/jwks.json',
    {
      config: { auth: 'public', duringStateSync: true },
      schema: {
        tags: ['auth'],
        operationId: 'getJwks',
        summary: 'Public keys that verify access tokens (JWKS; EdDSA keys only)',
        response: {
          200: Type.Object({
            keys: Type.Array(
              Type.Object({
                kty: Type.Literal('OKP'),
                crv: Type.Literal('Ed25519'),
                x: Type.String(),
                kid: Type.String(),
                alg: Type.Literal('EdDSA'),
                use: Type.Literal('sig'),
              }),
            ),
          }),
        },
      },
    },
    async (_request, reply) => {
      void reply.header('cache-control', 'public, max-age=300');
      return service.keys.jwks();
    },
  );

  app.post<{ Body: Static<typeof CreateApiKeyRequest> }>(
    '/api/v1/admin/api-keys',
    {
      config: { auth: 'admin', auditAction: 'admin.api-key.create', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Create an API key; its secret is returned this once',
        body: CreateApiKeyRequest,
        response: withErrors({ 201: CreateApiKeyResponse }),
      },
    },
    async (request, reply) => {
      const { key, record } = await service.createApiKey({
        role: request.body.role,
        label: request.body.label,
        createdBy: request.auth?.subject ?? 'unknown',
      });
      setAuditDetails(request, { apiKeyId: record.id, keyRole: record.role, label: record.label });
      void reply.status(201);
      return {
        id: record.id,
        role: record.role,
        label: record.label,
        createdAt: record.createdAt,
        createdBy: record.createdBy,
        key,
      };
    },
  );

  app.get(
    '/api/v1/admin/api-keys',
    {
      config: { auth: 'admin', auditAction: 'admin.api-key.list', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'List API keys (never their secrets)',
        response: withErrors({ 200: ApiKeyList }),
      },
    },
    async () => ({
      keys: service.listApiKeys().map(({ id, role, label, createdAt, createdBy }) => ({
        id,
        role,
        label,
        createdAt,
        createdBy,
      })),
    }),
  );

  app.delete<{ Params: Static<typeof ApiKeyParams> }>(
    '/api/v1/admin/api-keys/:id',
    {
      config: { auth: 'admin', auditAction: 'admin.api-key.delete', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Delete an API key and revoke what it issued',
        params: ApiKeyParams,
        response: withErrors({ 200: DeleteApiKeyResponse }, [404]),
      },
    },
    async (request) => {
      setAuditDetails(request, { apiKeyId: request.params.id });
      await service.deleteApiKey(request.params.id);
      return { id: request.params.id, deleted: true };
    },
  );

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/api/v1/admin/audit',
    {
      config: { auth: 'admin', auditAction: 'admin.audit.read', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Page through the hash-chained audit log',
        querystring: AuditQuery,
        response: withErrors({ 200: AuditPageResponse }),
      },
    },
    async (request) => {
      const { from, limit, order } = request.query;
      const page = await audit.page({ from, limit, order });
      return {
        entries: page.entries.map((e) => ({
          ...e,
          prevHash: toHex(e.prevHash),
          hash: toHex(e.hash),
        })),
        next: page.next,
        head: audit.head,
      };
    },
  );

  app.post(
    '/api/v1/admin/signing-keys/rotate',
    {
      config: { auth: 'admin', auditAction: 'admin.signing-key.rotate', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Make a new token signing key; the old one verifies for the overlap window',
        response: withErrors({ 200: RotateResponse }),
      },
    },
    async (request) => {
      const { current, retired } = service.rotateSigningKey();
      setAuditDetails(request, {
        newKid: current.kid,
        retiredKid: retired.kid,
        retiresAt: retired.retiresAt,
      });
      return {
        current: { kid: current.kid, createdAt: current.createdAt },
        retired: { kid: retired.kid, retiresAt: retired.retiresAt ?? 0 },
      };
    },
  );
}
