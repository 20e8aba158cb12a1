/**
 * Attacks on the auth layer of a real API server on loopback. Clients come
 * from different loopback addresses (127.0.0.2, 127.0.0.3, ...), which the
 * server sees as different client IPs.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type SecureApiFixture, startSecureApi } from '../support/secure-api.ts';

const ATTACKER = '127.0.0.2';
const OWNER = '127.0.0.3';
const wrong = (id: string) => `utxod_ak_${id}_${'A'.repeat(43)}`;

describe('auth: lockout by a third party', { timeout: 60_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    f = await startSecureApi({ auth: { authLockoutAttempts: 5, rateLimitAuth: 10_000 } });
  });
  after(() => f.close());

  it('wrong secrets for a known key id lock out the sender, not the key', async () => {
    const { key, record } = await f.auth.service.createApiKey({
      role: 'reader',
      createdBy: 'test',
    });
    for (let i = 0; i < 5; i++) {
      const r = await f.call('POST', '/api/v1/auth/token', {
        body: { apiKey: wrong(record.id) },
        from: ATTACKER,
      });
      assert.equal(r.status, 401);
    }
    const attacker = await f.call('POST', '/api/v1/auth/token', {
      body: { apiKey: key },
      from: ATTACKER,
    });
    assert.equal(attacker.status, 429, 'the guesser is locked out, even with the right key');
    assert.equal(attacker.body.error?.code, 'AUTH_LOCKED_OUT');
    const owner = await f.call('POST', '/api/v1/auth/token', {
      body: { apiKey: key },
      from: OWNER,
    });
    assert.equal(owner.status, 200, 'the owner, from elsewhere, still logs in');
    assert.equal(owner.body['subject'], `key:${record.id}`);
  });
});

describe('auth: the key hash does not serialise other clients', { timeout: 60_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    // A hash of tens of ms, no lockout in the way: the flood is pure CPU.
    f = await startSecureApi({
      auth: { authScryptLogN: 13, authLockoutAttempts: 10_000, rateLimitAuth: 10_000 },
    });
  });
  after(() => f.close());

  it("a flood of attempts from one client does not delay another client's login", async () => {
    const { key, record } = await f.auth.service.createApiKey({
      role: 'reader',
      createdBy: 'test',
    });
    const order: string[] = [];
    const flood = Array.from({ length: 12 }, (_, i) =>
      f
        .call('POST', '/api/v1/auth/token', { body: { apiKey: wrong(record.id) }, from: ATTACKER })
        .then((r) => {
          assert.equal(r.status, 401);
          order.push(`flood${i}`);
        }),
    );
    await new Promise((r) => setTimeout(r, 30));
    const login = f
      .call('POST', '/api/v1/auth/token', { body: { apiKey: key }, from: OWNER })
      .then((r) => {
        assert.equal(r.status, 200);
        order.push('owner');
      });
    await Promise.all([...flood, login]);
    const position = order.indexOf('owner');
    assert.ok(position < 6, `the owner finished ${position + 1}th of 13: ${order.join(',')}`);
  });
});

describe('auth: nbf', { timeout: 30_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    f = await startSecureApi();
  });
  after(() => f.close());

  it('refuses a token before its nbf, within the documented skew accepts it', async () => {
    const nowS = Math.floor(Date.now() / 1000);
    const later = f.auth.service.issueAccessToken('nbf', 'reader', 2 * 3_600_000, {
      notBefore: nowS + 3600,
    }).token;
    const r = await f.call('GET', '/api/v1/node/status', { token: later });
    assert.equal(r.status, 401);
    assert.equal(r.body.error?.code, 'AUTH_TOKEN_INVALID');
    assert.equal(r.body.error?.details['reason'], 'not-yet-valid');
    const skewed = f.auth.service.issueAccessToken('nbf', 'reader', 3_600_000, {
      notBefore: nowS + 30,
    }).token;
    assert.equal((await f.call('GET', '/api/v1/node/status', { token: skewed })).status, 200);
  });
});

describe('auth: trustProxy', { timeout: 30_000 }, () => {
  const attempt = (f: SecureApiFixture, apiKey: string, forwardedFor: string) =>
    f.call('POST', '/api/v1/auth/token', {
      body: { apiKey },
      headers: { 'x-forwarded-for': forwardedFor },
    });

  it('is off by default: X-Forwarded-For is ignored, the socket address is the client', async () => {
    const f = await startSecureApi({ auth: { authLockoutAttempts: 3, rateLimitAuth: 10_000 } });
    try {
      const { key, record } = await f.auth.service.createApiKey({ role: 'reader', createdBy: 't' });
      for (let i = 0; i < 3; i++) await attempt(f, wrong(record.id), `203.0.113.${i}`);
      // Every attempt came from 127.0.0.1 whatever the header said: that address is locked.
      assert.equal((await attempt(f, key, '198.51.100.1')).status, 429);
    } finally {
      await f.close();
    }
  });

  it('behind a trusted proxy, clients are told apart by X-Forwarded-For', async () => {
    const f = await startSecureApi({
      auth: { authLockoutAttempts: 3, rateLimitAuth: 10_000 },
      server: { trustProxy: ['127.0.0.0/8'] },
    });
    try {
      const { key, record } = await f.auth.service.createApiKey({ role: 'reader', createdBy: 't' });
      for (let i = 0; i < 3; i++) await attempt(f, wrong(record.id), '203.0.113.7');
      assert.equal((await attempt(f, key, '203.0.113.7')).status, 429);
      assert.equal((await attempt(f, key, '198.51.100.1')).status, 200);
    } finally {
      await f.close();
    }
  });
});

describe('auth: rate-limit buckets', { timeout: 30_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    f = await startSecureApi({
      auth: { rateLimitReader: 3, rateLimitOperator: 3, rateLimitAdmin: 3 },
    });
  });
  after(() => f.close());

  it('tokens of different roles for one subject do not share a bucket', async () => {
    const reader = f.token('cli', 'reader');
    const admin = f.token('cli', 'admin');
    for (let i = 0; i < 3; i++)
      assert.equal((await f.call('GET', '/api/v1/node/status', { token: reader })).status, 200);
    assert.equal((await f.call('GET', '/api/v1/node/status', { token: reader })).status, 429);
    assert.equal(
      (await f.call('GET', '/api/v1/node/status', { token: admin })).status,
      200,
      "the reader's flood does not lock out the operator's admin token",
    );
    assert.equal(
      (await f.call('GET', '/api/v1/node/status', { token: f.token('cli-2', 'reader') })).status,
      200,
    );
  });

  it('refuses token subjects that would pose as an API key', () => {
    assert.throws(() => f.token('key:0123456789abcdef', 'admin'), /key:/);
    assert.throws(() => f.token('', 'reader'));
    assert.throws(() => f.token('a b', 'reader'));
  });
});

describe('auth: asymmetric tokens and JWKS', { timeout: 30_000 }, () => {
  let f: SecureApiFixture;
  before(async () => {
    f = await startSecureApi();
  });
  after(() => f.close());

  const part = (token: string, i: number) =>
    JSON.parse(Buffer.from(token.split('.')[i]!, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;

  it('signs with EdDSA by default and publishes keys a gateway can verify with', async () => {
    const token = f.token('gw', 'reader');
    const header = part(token, 0);
    assert.equal(header['alg'], 'EdDSA');
    const jwks = await f.call('GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200);
    const keys = jwks.body['keys'] as Array<Record<string, string>>;
    const jwk = keys.find((k) => k['kid'] === header['kid']);
    assert.ok(jwk !== undefined, 'the signing key is published');
    assert.equal(jwk['d'], undefined, 'no private part');
    // What a gateway does: verify with the public JWK alone.
    const publicKey = createPublicKey({
      key: jwk as unknown as import('node:crypto').JsonWebKey,
      format: 'jwk',
    });
    const [h, p, s] = token.split('.') as [string, string, string];
    assert.ok(verify(null, Buffer.from(`${h}.${p}`), publicKey, Buffer.from(s, 'base64url')));
  });

  it('cannot be confused into HS256 with the public key, or alg none', async () => {
    const kid = part(f.token('x', 'reader'), 0)['kid'] as string;
    const jwks = await f.call('GET', '/.well-known/jwks.json');
    const x = (jwks.body['keys'] as Array<Record<string, string>>)[0]!['x']!;
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    const nowS = Math.floor(Date.now() / 1000);
    const claims = {
      sub: 'mallory',
      role: 'admin',
      jti: '0'.repeat(32),
      iat: nowS,
      exp: nowS + 600,
    };
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid })}.${b64(claims)}`;
    for (const secret of [x, Buffer.from(x, 'base64url')]) {
      const forged = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      const r = await f.call('GET', '/api/v1/admin/audit', { token: forged });
      assert.equal(r.status, 401);
      assert.equal(r.body.error?.details['reason'], 'algorithm');
    }
    const none = `${b64({ alg: 'none', kid })}.${b64(claims)}.`;
    assert.equal((await f.call('GET', '/api/v1/admin/audit', { token: none })).status, 401);
  });

  it('keeps HS256 as an explicit option (nothing published)', async () => {
    const hs = await startSecureApi({ auth: { authTokenAlgorithm: 'HS256' } });
    try {
      const token = hs.token('h', 'reader');
      assert.equal(part(token, 0)['alg'], 'HS256');
      assert.equal((await hs.call('GET', '/api/v1/node/status', { token })).status, 200);
      assert.deepEqual((await hs.call('GET', '/.well-known/jwks.json')).body['keys'], []);
    } finally {
      await hs.close();
    }
  });
});
