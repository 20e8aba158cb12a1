import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Database } from '../../storage/db.ts';
import {
  CookieError,
  cookiePath,
  mintLocalToken,
  readCookie,
  removeCookie,
  writeCookie,
} from './cookie.ts';
import { AuthError } from './errors.ts';
import { AuthService } from './service.ts';
import { signingKeysPath } from './signing-keys.ts';

describe('local CLI authentication (cookie)', () => {
  let datadir: string;
  let db: Database;
  let service: AuthService;
  let now = Date.now();

  before(async () => {
    datadir = mkdtempSync(join(tmpdir(), 'utxod-cookie-'));
    db = await Database.open({ path: join(datadir, 'chain'), syncWrites: false });
    // The node's own auth service: it creates the signing key file, as at start.
    service = await AuthService.open(
      {
        signingKeysPath: signingKeysPath(datadir),
        signingKeyOverlapMs: 3_600_000,
        accessTokenTtlMs: 60_000,
        refreshTokenTtlMs: 3_600_000,
        lockout: { maxAttempts: 5, windowMs: 60_000, durationMs: 60_000 },
        scryptLogN: 10,
        purgeIntervalMs: 0,
        now: () => now,
      },
      { db },
    );
  });
  after(async () => {
    service.close();
    await db.close();
    rmSync(datadir, { recursive: true, force: true });
  });

  test('the node writes its URL readable only by its user, and removes it', () => {
    assert.equal(readCookie(datadir), null);
    writeCookie(datadir, { url: 'http://127.0.0.1:8645' });
    assert.equal(statSync(cookiePath(datadir)).mode & 0o777, 0o600);
    const cookie = readCookie(datadir);
    assert.equal(cookie?.url, 'http://127.0.0.1:8645');
    assert.equal(cookie?.pid, process.pid);
    removeCookie(datadir);
    assert.equal(readCookie(datadir), null);
  });

  test('a cookie that is not one is refused, not trusted', () => {
    writeFileSync(cookiePath(datadir), '{"url":"javascript:alert(1)","pid":1,"startedAt":1}');
    assert.throws(() => readCookie(datadir), CookieError);
    writeFileSync(cookiePath(datadir), 'not json');
    assert.throws(() => readCookie(datadir), CookieError);
    writeFileSync(cookiePath(datadir), 'x'.repeat(5000));
    assert.throws(() => readCookie(datadir), /larger than 4096 bytes/);
    removeCookie(datadir);
  });

  test('a locally minted token is accepted by the node, with the role asked for', () => {
    const token = mintLocalToken(datadir, { role: 'reader', now });
    assert.ok(token !== null);
    const auth = service.authenticate(token);
    assert.equal(auth.role, 'reader');
    assert.equal(auth.subject, 'local-cli');
    assert.ok(auth.expiresAt <= Math.floor(now / 1000) + 300);
    const admin = mintLocalToken(datadir, { role: 'admin', now });
    assert.equal(service.authenticate(admin!).role, 'admin');
  });

  test('it is short-lived: refused once expired', () => {
    const token = mintLocalToken(datadir, { role: 'reader', ttlMs: 60_000, now });
    const saved = now;
    now += 61_000;
    try {
      assert.throws(
        () => service.authenticate(token!),
        (error: unknown) => error instanceof AuthError && error.code === 'AUTH_TOKEN_EXPIRED',
      );
    } finally {
      now = saved;
    }
  });

  test('no signing key readable: no token (the caller asks for --token)', () => {
    assert.equal(mintLocalToken(join(datadir, 'elsewhere'), { role: 'reader' }), null);
  });
});
