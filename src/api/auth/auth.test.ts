import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { AuditLog } from '../../audit/log.ts';
import { Database } from '../../storage/db.ts';
import { ApiError, errorHandler } from '../errors.ts';
import { authPlugin, type RateLimitSettings } from './plugin.ts';
import type { Role } from './roles.ts';
import { registerAuthRoutes } from './routes.ts';
import { AuthService, type AuthServiceOptions } from './service.ts';
import { SigningKeyStore } from './signing-keys.ts';
import { TokenCodec } from './tokens.ts';

const HOUR = 3_600_000;

interface Harness {
  url: string;
  app: FastifyInstance;
  service: AuthService;
  audit: AuditLog;
  registry: Registry;
  clock: { now: number };
  dir: string;
  close(): Promise<void>;
}

const GENEROUS: RateLimitSettings = {
  windowMs: 60_000,
  anonymous: 10_000,
  reader: 10_000,
  operator: 10_000,
  admin: 10_000,
  submit: 10_000,
  auth: 10_000,
};

async function startServer(
  opts: {
    rateLimit?: RateLimitSettings | null;
    publicRoutes?: string[];
    service?: Partial<AuthServiceOptions>;
  } = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-auth-'));
  const clock = { now: Date.UTC(2026, 0, 1) };
  const now = () => clock.now;
  const db = await Database.open({ path: join(dir, 'chain'), syncWrites: false });
  const service = await AuthService.open(
    {
      signingKeysPath: join(dir, 'keys', 'api-signing-keys.json'),
      signingKeyOverlapMs: HOUR,
      accessTokenTtlMs: 15 * 60_000,
      refreshTokenTtlMs: 24 * HOUR,
      lockout: { maxAttempts: 3, windowMs: 10 * 60_000, durationMs: 5 * 60_000 },
      scryptLogN: 10,
      purgeIntervalMs: 0,
      now,
      ...opts.service,
    },
    { db },
  );
  const audit = await AuditLog.open({ now }, { db });
  const registry = new Registry();
  const app = Fastify();
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request) => {
    throw new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${request.url}`);
  });
  await app.register(authPlugin, {
    service,
    audit,
    metricsRegistry: registry,
    publicRoutes: opts.publicRoutes ?? [],
    rateLimit: opts.rateLimit === undefined ? GENEROUS : opts.rateLimit,
  });
  for (const level of ['public', 'reader', 'operator', 'admin'] as const) {
    app.get(`/t/${level}`, { config: { auth: level } }, async (request) => ({
      ok: level,
      subject: request.auth?.subject ?? null,
    }));
  }
  app.get('/t/undeclared', async (request) => ({
    ok: 'undeclared',
    subject: request.auth?.subject ?? null,
  }));
  app.post('/t/submit', { config: { auth: 'public', rateLimitClass: 'submit' } }, async () => ({
    ok: 'submit',
  }));
  registerAuthRoutes(app);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    app,
    service,
    audit,
    registry,
    clock,
    dir,
    async close() {
      await app.close();
      service.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

interface Answer {
  status: number;
  body: { error?: { code: string; details: Record<string, unknown> } } & Record<string, unknown>;
  headers: Headers;
}

async function call(
  h: Harness,
  method: string,
  path: string,
  opts: { token?: string; authorization?: string; body?: unknown } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.authorization !== undefined) headers['authorization'] = opts.authorization;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${h.url}${path}`, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
  });
  return {
    status: response.status,
    body: (await response.json()) as Answer['body'],
    headers: response.headers,
  };
}

function tokenFor(h: Harness, role: Role, ttlMs = HOUR): string {
  return h.service.issueAccessToken(`test-${role}`, role, ttlMs).token;
}

function assertError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal(answer.body.error?.code, code);
  assert.equal(typeof answer.body['requestId'], 'string');
}

async function metricValue(h: Harness, name: string, labels: Record<string, string>) {
  const metric = await h.registry.getSingleMetric(name)?.get();
  const found = metric?.values.find((v) =>
    Object.entries(labels).every(([k, val]) => v.labels[k] === val),
  );
  return found?.value ?? 0;
}

describe('roles', () => {
  let h: Harness;
  before(async () => {
    h = await startServer({ publicRoutes: ['GET /t/operator'] });
  });
  after(() => h.close());

  test('each role is allowed exactly the routes at or below it', async () => {
    const expect: Record<string, Record<string, number>> = {
      reader: { public: 200, reader: 200, admin: 403, undeclared: 403 },
      operator: { public: 200, reader: 200, admin: 403, undeclared: 403 },
      admin: { public: 200, reader: 200, admin: 200, undeclared: 200 },
    };
    for (const [role, routes] of Object.entries(expect)) {
      const token = tokenFor(h, role as Role);
      for (const [route, status] of Object.entries(routes)) {
        const answer = await call(h, 'GET', `/t/${route}`, { token });
        assert.equal(answer.status, status, `${role} on /t/${route}`);
        if (status === 403) {
          assertError(answer, 403, 'AUTH_FORBIDDEN');
          assert.equal(answer.body.error?.details['role'], role);
        } else {
          assert.equal(answer.body['subject'], `test-${role}`);
        }
      }
    }
  });

  test('without a token only public routes answer; undeclared routes need admin', async () => {
    assert.equal((await call(h, 'GET', '/t/public')).status, 200);
    const reader = await call(h, 'GET', '/t/reader');
    assertError(reader, 401, 'AUTH_MISSING');
    assert.match(reader.headers.get('www-authenticate') ?? '', /^Bearer/);
    assertError(await call(h, 'GET', '/t/admin'), 401, 'AUTH_MISSING');
    const undeclared = await call(h, 'GET', '/t/undeclared');
    assertError(undeclared, 401, 'AUTH_MISSING');
    assert.equal(undeclared.body.error?.details['required'], 'admin');
  });

  test('publicRoutes opens a route declared for a role', async () => {
    assert.equal((await call(h, 'GET', '/t/operator')).status, 200);
  });

  test('unknown routes still answer 404', async () => {
    assertError(await call(h, 'GET', '/nope'), 404, 'NOT_FOUND');
  });

  test('a route declaring an unknown access level is refused at startup', async () => {
    const app = Fastify();
    const dir = mkdtempSync(join(tmpdir(), 'utxod-auth-'));
    const db = await Database.open({ path: join(dir, 'db'), syncWrites: false });
    try {
      await app.register(authPlugin, {
        service: h.service,
        audit: await AuditLog.open({}, { db }),
        metricsRegistry: new Registry(),
        rateLimit: null,
      });
      assert.throws(
        () => app.get('/x', { config: { auth: 'superuser' as 'admin' } }, async () => ({})),
        /config\.auth must be one of/,
      );
    } finally {
      await app.close();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('bearer tokens', () => {
  let h: Harness;
  before(async () => {
    h = await startServer();
  });
  after(() => h.close());

  test('expired tokens are refused with AUTH_TOKEN_EXPIRED', async () => {
    const token = tokenFor(h, 'reader', 60_000);
    assert.equal((await call(h, 'GET', '/t/reader', { token })).status, 200);
    h.clock.now += 60_000;
    assertError(await call(h, 'GET', '/t/reader', { token }), 401, 'AUTH_TOKEN_EXPIRED');
  });

  test('malformed tokens and headers are refused with AUTH_TOKEN_MALFORMED, even on public routes', async () => {
    for (const authorization of ['Bearer abc', 'Bearer a.b.c', 'Basic dXNlcjpwYXNz', 'Bearer']) {
      assertError(
        await call(h, 'GET', '/t/public', { authorization }),
        401,
        'AUTH_TOKEN_MALFORMED',
      );
    }
  });

  test('a token signed with another key or tampered with is AUTH_TOKEN_INVALID', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'utxod-auth-other-'));
    try {
      const other = SigningKeyStore.open({ path: join(dir, 'k.json'), overlapMs: HOUR });
      const codec = await TokenCodec.create({ now: () => h.clock.now }, { keys: other });
      const foreign = codec.sign({ subject: 'mallory', role: 'admin', ttlMs: HOUR }).token;
      const unknownKey = await call(h, 'GET', '/t/admin', { token: foreign });
      assertError(unknownKey, 401, 'AUTH_TOKEN_INVALID');
      assert.equal(unknownKey.body.error?.details['reason'], 'unknown-key');

      // Same kid as ours, but signed with a different secret.
      const [, payload] = foreign.split('.');
      const ours = tokenFor(h, 'reader').split('.');
      const forged = `${ours[0]}.${payload}.${foreign.split('.')[2]}`;
      const badSig = await call(h, 'GET', '/t/admin', { token: forged });
      assertError(badSig, 401, 'AUTH_TOKEN_INVALID');
      assert.equal(badSig.body.error?.details['reason'], 'signature');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('revoked tokens are AUTH_TOKEN_REVOKED; the revocation is purged once the token expired', async () => {
    const token = tokenFor(h, 'operator', 10 * 60_000);
    assert.equal((await call(h, 'GET', '/t/operator', { token })).status, 200);
    const revoked = await call(h, 'POST', '/api/v1/auth/revoke', { body: { token } });
    assert.equal(revoked.status, 200);
    assert.deepEqual(revoked.body, { revoked: true, kind: 'access' });
    assertError(await call(h, 'GET', '/t/operator', { token }), 401, 'AUTH_TOKEN_REVOKED');
    assert.deepEqual(await h.service.purgeExpired(), { revocations: 0, refreshTokens: 0 });
    h.clock.now += 10 * 60_000;
    assert.deepEqual(await h.service.purgeExpired(), { revocations: 1, refreshTokens: 0 });
    assertError(await call(h, 'GET', '/t/operator', { token }), 401, 'AUTH_TOKEN_EXPIRED');
  });

  test('revoking garbage revokes nothing', async () => {
    const answer = await call(h, 'POST', '/api/v1/auth/revoke', { body: { token: 'nonsense' } });
    assert.deepEqual(answer.body, { revoked: false, kind: null });
  });

  test('failures are counted by code', async () => {
    assert.ok(
      (await metricValue(h, 'utxod_api_auth_failures_total', { code: 'AUTH_TOKEN_EXPIRED' })) >= 1,
    );
    assert.ok(
      (await metricValue(h, 'utxod_api_auth_failures_total', { code: 'AUTH_TOKEN_MALFORMED' })) >=
        4,
    );
  });
});

describe('signing key rotation', () => {
  let h: Harness;
  before(async () => {
    h = await startServer();
  });
  after(() => h.close());

  test('an old token verifies inside the overlap window and not after', async () => {
    const admin = tokenFor(h, 'admin', 10 * HOUR);
    const oldKid = h.service.keys.current.kid;
    const rotated = await call(h, 'POST', '/api/v1/admin/signing-keys/rotate', { token: admin });
    assert.equal(rotated.status, 200);
    const current = rotated.body['current'] as { kid: string };
    const retired = rotated.body['retired'] as { kid: string; retiresAt: number };
    assert.equal(retired.kid, oldKid);
    assert.notEqual(current.kid, oldKid);
    assert.equal(retired.retiresAt, h.clock.now + HOUR);

    const fresh = tokenFor(h, 'reader', 10 * HOUR);
    h.clock.now += HOUR - 1000;
    assert.equal((await call(h, 'GET', '/t/admin', { token: admin })).status, 200);
    h.clock.now += 1000;
    const after = await call(h, 'GET', '/t/admin', { token: admin });
    assertError(after, 401, 'AUTH_TOKEN_INVALID');
    assert.equal(after.body.error?.details['reason'], 'unknown-key');
    assert.equal((await call(h, 'GET', '/t/reader', { token: fresh })).status, 200);
  });

  test('the key file survives a reload and drops retired keys', async () => {
    const reloaded = SigningKeyStore.open({
      path: join(h.dir, 'keys', 'api-signing-keys.json'),
      overlapMs: HOUR,
      now: () => h.clock.now,
    });
    assert.equal(reloaded.current.kid, h.service.keys.current.kid);
    assert.equal(reloaded.list().length, 1);
  });
});

describe('API keys and refresh tokens', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startServer();
    admin = tokenFor(h, 'admin', 100 * HOUR);
  });
  after(() => h.close());

  async function createKey(role: Role): Promise<{ id: string; key: string }> {
    const created = await call(h, 'POST', '/api/v1/admin/api-keys', {
      token: admin,
      body: { role, label: `${role} key` },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return { id: created.body['id'] as string, key: created.body['key'] as string };
  }

  test('only admins create keys; the key is returned once and stored only hashed', async () => {
    const refused = await call(h, 'POST', '/api/v1/admin/api-keys', {
      token: tokenFor(h, 'operator'),
      body: { role: 'admin' },
    });
    assertError(refused, 403, 'AUTH_FORBIDDEN');
    const { id, key } = await createKey('operator');
    assert.match(key, /^utxod_ak_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const listed = await call(h, 'GET', '/api/v1/admin/api-keys', { token: admin });
    const keys = listed.body['keys'] as Array<Record<string, unknown>>;
    const mine = keys.find((k) => k['id'] === id);
    assert.equal(mine?.['role'], 'operator');
    assert.equal(JSON.stringify(listed.body).includes(key.slice(-43)), false);
    const record = h.service.listApiKeys().find((k) => k.id === id);
    assert.equal(record?.kdf.alg, 'scrypt');
    assert.equal(record?.kdf.N, 1024);
    assert.equal(JSON.stringify(record).includes(key.slice(-43)), false);
  });

  test('an API key buys an access token of its role and a refresh token that rotates', async () => {
    const { id, key } = await createKey('operator');
    const pair = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    assert.equal(pair.status, 200, JSON.stringify(pair.body));
    assert.equal(pair.body['role'], 'operator');
    assert.equal(pair.body['subject'], `key:${id}`);
    assert.equal(pair.body['expiresIn'], 15 * 60);
    const access = pair.body['accessToken'] as string;
    const refresh1 = pair.body['refreshToken'] as string;
    assert.equal((await call(h, 'GET', '/t/operator', { token: access })).status, 200);
    assertError(await call(h, 'GET', '/t/admin', { token: access }), 403, 'AUTH_FORBIDDEN');

    const second = await call(h, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: refresh1 },
    });
    assert.equal(second.status, 200);
    const refresh2 = second.body['refreshToken'] as string;
    const access2 = second.body['accessToken'] as string;
    assert.notEqual(refresh2, refresh1);
    assert.equal((await call(h, 'GET', '/t/reader', { token: access2 })).status, 200);

    // The spent token comes back: refused, and the whole family is revoked.
    const reuse = await call(h, 'POST', '/api/v1/auth/refresh', {
      body: { refreshToken: refresh1 },
    });
    assertError(reuse, 401, 'AUTH_REFRESH_REUSED');
    assertError(
      await call(h, 'POST', '/api/v1/auth/refresh', { body: { refreshToken: refresh2 } }),
      401,
      'AUTH_TOKEN_REVOKED',
    );
    assertError(await call(h, 'GET', '/t/reader', { token: access2 }), 401, 'AUTH_TOKEN_REVOKED');
    assertError(await call(h, 'GET', '/t/reader', { token: access }), 401, 'AUTH_TOKEN_REVOKED');
  });

  test('concurrent refreshes with one token: exactly one wins', async () => {
    const { key } = await createKey('reader');
    const pair = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    const refreshToken = pair.body['refreshToken'] as string;
    const answers = await Promise.all(
      [1, 2, 3].map(() => call(h, 'POST', '/api/v1/auth/refresh', { body: { refreshToken } })),
    );
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, 401, 401]);
  });

  test('expired refresh tokens are refused and purged', async () => {
    const { key } = await createKey('reader');
    const pair = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    h.clock.now += 24 * HOUR;
    assertError(
      await call(h, 'POST', '/api/v1/auth/refresh', {
        body: { refreshToken: pair.body['refreshToken'] },
      }),
      401,
      'AUTH_REFRESH_EXPIRED',
    );
    const purged = await h.service.purgeExpired();
    assert.ok(purged.refreshTokens >= 1);
    assertError(
      await call(h, 'POST', '/api/v1/auth/refresh', {
        body: { refreshToken: pair.body['refreshToken'] },
      }),
      401,
      'AUTH_REFRESH_INVALID',
    );
  });

  test('revoking a refresh token revokes its family', async () => {
    const { key } = await createKey('reader');
    const pair = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    const revoked = await call(h, 'POST', '/api/v1/auth/revoke', {
      body: { token: pair.body['refreshToken'] },
    });
    assert.deepEqual(revoked.body, { revoked: true, kind: 'refresh' });
    assertError(
      await call(h, 'GET', '/t/reader', { token: pair.body['accessToken'] as string }),
      401,
      'AUTH_TOKEN_REVOKED',
    );
  });

  test('deleting an API key revokes what it issued', async () => {
    const { id, key } = await createKey('reader');
    const pair = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    const deleted = await call(h, 'DELETE', `/api/v1/admin/api-keys/${id}`, { token: admin });
    assert.deepEqual(deleted.body, { id, deleted: true });
    assertError(
      await call(h, 'DELETE', `/api/v1/admin/api-keys/${id}`, { token: admin }),
      404,
      'API_KEY_NOT_FOUND',
    );
    assertError(
      await call(h, 'GET', '/t/reader', { token: pair.body['accessToken'] as string }),
      401,
      'AUTH_TOKEN_REVOKED',
    );
    assertError(
      await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } }),
      401,
      'AUTH_INVALID_CREDENTIALS',
    );
  });

  test('admin actions and credential exchanges are in the audit log', async () => {
    await h.audit.flush();
    const page = await call(h, 'GET', '/api/v1/admin/audit?limit=500', { token: admin });
    assert.equal(page.status, 200);
    const entries = page.body['entries'] as Array<Record<string, unknown>>;
    const actions = new Set(entries.map((e) => `${e['action']}:${e['outcome']}`));
    for (const expected of [
      'admin.api-key.create:success',
      'admin.api-key.list:success',
      'admin.api-key.delete:success',
      'admin.api-key.delete:failure',
      'auth.token:success',
      'auth.token:failure',
      'auth.refresh:success',
      'auth.refresh:failure',
      'auth.revoke:success',
      'auth.denied:failure',
    ]) {
      assert.ok(actions.has(expected), `missing ${expected} in ${[...actions].join(', ')}`);
    }
    const create = entries.find((e) => e['action'] === 'admin.api-key.create');
    assert.equal(create?.['actor'], 'test-admin');
    assert.equal(
      (create?.['details'] as Record<string, unknown> | undefined)?.['keyRole'],
      'operator',
    );
    // Pages chain together.
    const first = await call(h, 'GET', '/api/v1/admin/audit?limit=2', { token: admin });
    assert.equal((first.body['entries'] as unknown[]).length, 2);
    assert.equal(first.body['next'], 3);
    const desc = await call(h, 'GET', '/api/v1/admin/audit?limit=1&order=desc', { token: admin });
    const [last] = desc.body['entries'] as Array<{ seq: number }>;
    assert.equal(desc.body['next'], (last?.seq ?? 0) - 1);
    assertError(
      await call(h, 'GET', '/api/v1/admin/audit', { token: tokenFor(h, 'operator') }),
      403,
      'AUTH_FORBIDDEN',
    );
  });
});

describe('lockout', () => {
  let h: Harness;
  let admin: string;
  before(async () => {
    h = await startServer();
    admin = tokenFor(h, 'admin', 100 * HOUR);
  });
  after(() => h.close());

  async function createKey(): Promise<{ id: string; key: string }> {
    const created = await call(h, 'POST', '/api/v1/admin/api-keys', {
      token: admin,
      body: { role: 'reader' },
    });
    return { id: created.body['id'] as string, key: created.body['key'] as string };
  }
  const wrong = (id: string) => `utxod_ak_${id}_${'A'.repeat(43)}`;

  test('a key id is locked after N failures, even for the right secret, until the lockout ends', async () => {
    const { id, key } = await createKey();
    for (let i = 0; i < 3; i++) {
      assertError(
        await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: wrong(id) } }),
        401,
        'AUTH_INVALID_CREDENTIALS',
      );
    }
    const locked = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    assertError(locked, 429, 'AUTH_LOCKED_OUT');
    assert.equal(locked.headers.get('retry-after'), '300');
    assert.equal(locked.body.error?.details['retryAfterSeconds'], 300);
    h.clock.now += 5 * 60_000;
    assert.equal(
      (await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } })).status,
      200,
    );
  });

  test('a client IP is locked after N failures across key ids', async () => {
    const { key } = await createKey();
    for (const id of ['0000000000000001', '0000000000000002', '0000000000000003']) {
      assertError(
        await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: wrong(id) } }),
        401,
        'AUTH_INVALID_CREDENTIALS',
      );
    }
    const locked = await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } });
    assertError(locked, 429, 'AUTH_LOCKED_OUT');
    assert.equal(locked.body.error?.details['scope'], 'ip');
    h.clock.now += 5 * 60_000;
  });

  test('failures spread wider than the window do not lock', async () => {
    const { id, key } = await createKey();
    for (let i = 0; i < 4; i++) {
      await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: wrong(id) } });
      h.clock.now += 6 * 60_000;
    }
    assert.equal(
      (await call(h, 'POST', '/api/v1/auth/token', { body: { apiKey: key } })).status,
      200,
    );
  });
});

describe('rate limits', () => {
  let h: Harness;
  before(async () => {
    h = await startServer({
      rateLimit: {
        windowMs: 60_000,
        anonymous: 3,
        reader: 5,
        operator: 5,
        admin: 5,
        submit: 1,
        auth: 2,
      },
    });
  });
  after(() => h.close());

  test('anonymous clients get 429 with Retry-After and both header families after the limit', async () => {
    for (let i = 0; i < 3; i++) {
      const ok = await call(h, 'GET', '/t/public');
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('x-ratelimit-limit'), '3');
      assert.equal(ok.headers.get('x-ratelimit-remaining'), String(2 - i));
      assert.equal(ok.headers.get('ratelimit-limit'), '3');
      assert.equal(ok.headers.get('ratelimit-remaining'), String(2 - i));
      assert.equal(ok.headers.get('ratelimit-policy'), '3;w=60');
    }
    const limited = await call(h, 'GET', '/t/public');
    assertError(limited, 429, 'RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.equal(limited.body.error?.details['class'], 'default');
    assert.equal(await metricValue(h, 'utxod_api_rate_limited_total', { class: 'default' }), 1);
  });

  test('authenticated clients have their own bucket, sized by role', async () => {
    const token = tokenFor(h, 'reader');
    for (let i = 0; i < 5; i++)
      assert.equal((await call(h, 'GET', '/t/reader', { token })).status, 200);
    assertError(await call(h, 'GET', '/t/reader', { token }), 429, 'RATE_LIMITED');
    // Another subject on the same IP is unaffected.
    assert.equal(
      (await call(h, 'GET', '/t/operator', { token: tokenFor(h, 'operator') })).status,
      200,
    );
  });

  test('submit and auth routes have stricter classes', async () => {
    assert.equal((await call(h, 'POST', '/t/submit', { body: {} })).status, 200);
    const submit = await call(h, 'POST', '/t/submit', { body: {} });
    assertError(submit, 429, 'RATE_LIMITED');
    assert.equal(submit.body.error?.details['class'], 'submit');
    for (let i = 0; i < 2; i++)
      await call(h, 'POST', '/api/v1/auth/revoke', { body: { token: 'x' } });
    assertError(
      await call(h, 'POST', '/api/v1/auth/revoke', { body: { token: 'x' } }),
      429,
      'RATE_LIMITED',
    );
    assert.equal(await metricValue(h, 'utxod_api_rate_limited_total', { class: 'auth' }), 1);
  });

  test('token guesses are rate limited before they are judged', async () => {
    const answer = await call(h, 'GET', '/t/public', { authorization: 'Bearer nonsense' });
    // The IP's default bucket is already spent: the limiter answers, not the token check.
    assertError(answer, 429, 'RATE_LIMITED');
  });
});
