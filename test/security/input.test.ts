/**
 * Input handling of a real API server on loopback: integers in paths and
 * queries are canonical decimal or a 400, and errors raised by the framework
 * itself (while routing, before any hook) keep the project's error shape,
 * request id and headers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SecureApiFixture, startSecureApi } from '../support/secure-api.ts';

describe('input: canonical numbers and framework errors', { timeout: 30_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    f = await startSecureApi();
  });
  after(() => f.close());

  it('refuses non-canonical integers in paths', async () => {
    for (const spelled of ['1.5', '%20', '0x10', '01', '1e0', '+1', '-0', '%2B1', '0.0', ' 1']) {
      const r = await f.call('GET', `/api/v1/blocks/height/${spelled.replace(' ', '%20')}`);
      assert.equal(r.status, 400, `height ${JSON.stringify(spelled)} answered ${r.status}`);
      assert.equal(r.body.error?.code, 'VALIDATION_ERROR');
    }
    assert.equal((await f.call('GET', '/api/v1/blocks/height/0')).status, 200);
  });

  it('refuses non-canonical integers and booleans in queries', async () => {
    for (const query of ['from=0x0', 'from=0&count=1.0', 'from=%200', 'from=0&count=1e1']) {
      const r = await f.call('GET', `/api/v1/headers?${query}`);
      assert.equal(r.status, 400, `?${query} answered ${r.status}`);
    }
    assert.equal((await f.call('GET', '/api/v1/headers?from=0&count=1')).status, 200);
    assert.equal((await f.call('GET', '/api/v1/blocks/height/0?txs=1')).status, 400);
    assert.equal((await f.call('GET', '/api/v1/blocks/height/0?txs=true')).status, 200);
  });

  it('answers an over-long path parameter and a bad URL in the error shape with the usual headers', async () => {
    for (const [path, status, code] of [
      [`/api/v1/blocks/hash/${'a'.repeat(300)}`, 414, 'URI_TOO_LONG'],
      ['/api/v1/blocks/hash/%zz', 400, 'BAD_REQUEST'],
    ] as const) {
      const r = await f.call('GET', path, { headers: { 'x-request-id': 'attack-1' } });
      assert.equal(r.status, status);
      assert.equal(r.body.error?.code, code);
      assert.ok(!JSON.stringify(r.body).includes('FST_'), 'no framework codes');
      assert.equal(r.body.requestId, 'attack-1');
      assert.equal(r.headers.get('x-request-id'), 'attack-1');
      assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'none'/);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
    }
  });
});

describe('docs page over plain http', { timeout: 30_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    f = await startSecureApi();
  });
  after(() => f.close());

  it('sends neither HSTS nor upgrade-insecure-requests', async () => {
    for (const path of ['/api/v1/docs/', '/api/v1/chain/info']) {
      const r = await f.call('GET', path);
      assert.equal(r.status, 200, path);
      assert.equal(r.headers.get('strict-transport-security'), null, path);
      assert.doesNotMatch(r.headers.get('content-security-policy') ?? '', /upgrade-insecure/, path);
    }
  });

  it('refuses unknown query parameters on routes that take none', async () => {
    const r = await f.call('GET', '/api/v1/chain/info?surprise=1');
    assert.equal(r.status, 400);
    assert.equal(r.body.error?.code, 'VALIDATION_ERROR');
    const status = await f.call('GET', '/api/v1/node/status?x=1', {
      token: f.token('q', 'reader'),
    });
    assert.equal(status.status, 400);
  });
});
