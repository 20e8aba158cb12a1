import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { type ApiFixture, startApiFixture } from '../../../test/support/api-server.ts';
import { silentLogger } from '../../logger/index.ts';
import { Database } from '../../storage/db.ts';
import { type AuthConfig, type AuthStack, openAuthStack } from './wiring.ts';

const config = (datadir: string): AuthConfig => ({
  datadir,
  publicRoutes: ['GET /api/v1/node/status'],
  authAccessTokenTtlMs: 900_000,
  authRefreshTokenTtlMs: 86_400_000,
  authSigningKeyOverlapMs: 3_600_000,
  authLockoutAttempts: 5,
  authLockoutWindowMs: 900_000,
  authLockoutDurationMs: 900_000,
  authScryptLogN: 10,
  authTokenAlgorithm: 'EdDSA',
  rateLimitEnabled: true,
  rateLimitWindowMs: 60_000,
  rateLimitAnonymous: 1000,
  rateLimitReader: 1000,
  rateLimitOperator: 1000,
  rateLimitAdmin: 1000,
  rateLimitSubmit: 1000,
  rateLimitAuth: 1000,
});

/** The whole ApiServer (every route of src/api/routes) behind the auth stack, as the node wires it. */
describe('ApiServer with the auth stack', () => {
  let dir: string;
  let db: Database;
  let stack: AuthStack;
  let f: ApiFixture;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'utxod-auth-server-'));
    db = await Database.open({ path: join(dir, 'chain'), syncWrites: false });
    stack = await openAuthStack(config(dir), {
      db,
      logger: silentLogger(),
      metricsRegistry: new Registry(),
    });
    f = await startApiFixture({ auth: stack.apiHook, docs: false });
  });
  after(async () => {
    await f.close();
    await stack.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const get = async (path: string, token?: string) => {
    const response = await fetch(`${f.url}${path}`, {
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    });
    const body = (await response.json()) as { error?: { code: string } };
    return { status: response.status, code: body.error?.code };
  };

  test('public routes answer without a token; reader and admin routes do not', async () => {
    assert.equal((await get('/api/v1/chain/tip')).status, 200);
    assert.equal((await get('/health/live')).status, 200);
    assert.deepEqual(await get('/api/v1/mempool'), { status: 401, code: 'AUTH_MISSING' });
    assert.deepEqual(await get('/api/v1/admin/log-level'), { status: 401, code: 'AUTH_MISSING' });
  });

  test('publicRoutes from the configuration opens a reader route', async () => {
    assert.equal((await get('/api/v1/node/status')).status, 200);
  });

  test('tokens of each role reach what their role allows', async () => {
    const reader = stack.service.issueAccessToken('r', 'reader').token;
    const admin = stack.service.issueAccessToken('a', 'admin').token;
    assert.equal((await get('/api/v1/mempool', reader)).status, 200);
    assert.deepEqual(await get('/api/v1/admin/log-level', reader), {
      status: 403,
      code: 'AUTH_FORBIDDEN',
    });
    assert.equal((await get('/api/v1/admin/log-level', admin)).status, 200);
    assert.equal((await get('/api/v1/admin/audit', admin)).status, 200);
  });

  test('admin actions on the routes helper’s routes are audited', async () => {
    const admin = stack.service.issueAccessToken('ops', 'admin').token;
    await get('/api/v1/admin/log-level', admin);
    await stack.audit.flush();
    const page = await stack.audit.page({ limit: 100, order: 'desc' });
    const entry = page.entries.find((e) => e.actor === 'ops');
    assert.equal(entry?.action, 'GET /api/v1/admin/log-level');
    assert.equal(entry?.outcome, 'success');
  });

  test('a WebSocket handshake may carry the token as ?access_token=', async () => {
    const base = f.url.replace(/^http/, 'ws');
    const reader = stack.service.issueAccessToken('ws', 'reader').token;
    const outcome = (url: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url);
        ws.addEventListener('open', () => {
          ws.close();
          resolve('open');
        });
        ws.addEventListener('error', () => resolve('refused'));
      });
    assert.equal(await outcome(`${base}/api/v1/stream?access_token=${reader}`), 'open');
    assert.equal(await outcome(`${base}/api/v1/stream`), 'refused');
    // Only on a handshake: a plain request with the query parameter is still unauthenticated.
    assert.deepEqual(await get(`/api/v1/mempool?access_token=${reader}`), {
      status: 401,
      code: 'AUTH_MISSING',
    });
  });

  test('rate-limit headers are on every answer', async () => {
    const response = await fetch(`${f.url}/api/v1/chain/tip`);
    assert.equal(response.headers.get('x-ratelimit-limit'), '1000');
    assert.equal(response.headers.get('ratelimit-limit'), '1000');
  });
});
