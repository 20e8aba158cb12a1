/**
 * docs/openapi.json is generated from the route schemas: the committed file
 * must match what the server generates now and be valid OpenAPI, and every
 * route must declare who may call it (the auth plugin treats a route without
 * `config.auth` as admin-only).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  generateNodeOpenApi,
  OPENAPI_PATH,
  serializeOpenApi,
  validateOpenApi,
} from '../../src/api/openapi.ts';
import { startApiFixture } from '../support/api-server.ts';

const script = fileURLToPath(new URL('../../scripts/openapi.ts', import.meta.url));

describe('openapi', () => {
  it('the committed docs/openapi.json is what the routes generate, and valid', async () => {
    const doc = await generateNodeOpenApi();
    assert.deepEqual(await validateOpenApi(doc), []);
    assert.equal(
      readFileSync(OPENAPI_PATH, 'utf8'),
      serializeOpenApi(doc),
      'run `npm run openapi` and commit docs/openapi.json',
    );
    const paths = doc['paths'] as Record<string, Record<string, { responses: object }>>;
    for (const path of [
      '/api/v1/chain/tip',
      '/api/v1/blocks/height/{height}',
      '/api/v1/txs',
      '/api/v1/addresses/{address}/utxos',
      '/api/v1/fees/estimate',
      '/health/ready',
      '/api/v1/auth/token',
    ]) {
      assert.ok(path in paths, `${path} is documented`);
    }
    assert.ok('400' in paths['/api/v1/txs']!['post']!.responses, 'error responses are documented');
  });

  it('npm run openapi:check passes on the committed file', () => {
    const result = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
  });

  it('every route declares its access level, seen through the auth plugin hook', async () => {
    const seen: Array<{ method: string; url: string; auth: unknown; rateLimitClass: unknown }> = [];
    const f = await startApiFixture({
      // Stands in for src/api/auth: plugged in before any route, it sees every route's config.
      auth: async (app) => {
        app.addHook('onRoute', (route) => {
          seen.push({
            method: String(route.method),
            url: route.url,
            auth: route.config?.auth,
            rateLimitClass: route.config?.rateLimitClass,
          });
        });
      },
    });
    try {
      assert.ok(seen.length > 20);
      assert.deepEqual(
        seen.filter((r) => r.auth === undefined),
        [],
      );
      const level = (method: string, url: string) =>
        seen.find((r) => r.method === method && r.url === url)?.auth;
      assert.equal(level('GET', '/api/v1/chain/tip'), 'public');
      assert.equal(level('POST', '/api/v1/txs'), 'public');
      assert.equal(level('GET', '/api/v1/addresses/:address/balance'), 'reader');
      assert.equal(level('GET', '/api/v1/mempool'), 'reader');
      assert.equal(level('PUT', '/api/v1/admin/log-level'), 'admin');
      assert.equal(level('DELETE', '/api/v1/admin/mempool/txs'), 'admin');
      assert.equal(level('GET', '/api/v1/docs/json'), 'public');
      assert.equal(
        seen.find((r) => r.method === 'POST' && r.url === '/api/v1/txs')?.rateLimitClass,
        'submit',
      );
    } finally {
      await f.close();
    }
  });
});
