import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../config/index.ts';
import { AuthError } from './errors.ts';
import { LockoutTracker } from './lockout.ts';
import { roleAllows } from './roles.ts';
import { SigningKeyError, SigningKeyStore } from './signing-keys.ts';
import { TokenCodec } from './tokens.ts';

function withDir<T>(run: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-auth-unit-'));
  try {
    return run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('roleAllows', () => {
  test('orders reader < operator < admin; public needs nothing', () => {
    assert.equal(roleAllows('reader', 'public'), true);
    assert.equal(roleAllows('reader', 'operator'), false);
    assert.equal(roleAllows('operator', 'reader'), true);
    assert.equal(roleAllows('operator', 'admin'), false);
    assert.equal(roleAllows('admin', 'admin'), true);
  });
});

describe('LockoutTracker', () => {
  test('locks at the Nth failure in the window, for the duration, then forgets', () => {
    let now = 0;
    const t = new LockoutTracker({ maxAttempts: 3, windowMs: 100, durationMs: 50, now: () => now });
    assert.deepEqual(t.fail(['a']), []);
    assert.deepEqual(t.fail(['a']), []);
    assert.deepEqual(t.fail(['a', 'b']), ['a']);
    assert.deepEqual(t.lockedUntil(['b', 'a']), { subject: 'a', until: 50 });
    now = 49;
    assert.notEqual(t.lockedUntil(['a']), null);
    now = 50;
    assert.equal(t.lockedUntil(['a']), null);
  });

  test('a success clears counts but not a running lockout', () => {
    let now = 0;
    const t = new LockoutTracker({ maxAttempts: 2, windowMs: 100, durationMs: 50, now: () => now });
    t.fail(['a']);
    t.succeed(['a']);
    assert.deepEqual(t.fail(['a']), []);
    t.fail(['a']);
    t.succeed(['a']);
    assert.notEqual(t.lockedUntil(['a']), null);
    now = 1;
    assert.notEqual(t.lockedUntil(['a']), null);
  });

  test('tracks a bounded number of subjects', () => {
    const t = new LockoutTracker({ maxAttempts: 2, windowMs: 100, durationMs: 50, maxTracked: 2 });
    t.fail(['a']);
    t.fail(['b']);
    t.fail(['c']);
    // 'a' was forgotten: its next failure is its first.
    assert.deepEqual(t.fail(['a']), []);
    assert.deepEqual(t.fail(['c']), ['c']);
  });
});

describe('SigningKeyStore', () => {
  test('creates a 0600 file with one current key and rotates with an overlap', () =>
    withDir((dir) => {
      let now = 1000;
      const path = join(dir, 'keys', 'k.json');
      const store = SigningKeyStore.open({ path, overlapMs: 10, now: () => now });
      const first = store.current;
      const { current, retired } = store.rotate();
      assert.equal(retired.kid, first.kid);
      assert.equal(retired.retiresAt, 1010);
      assert.equal(store.current.kid, current.kid);
      assert.ok(store.find(first.kid));
      now = 1010;
      assert.equal(store.find(first.kid), undefined);
      assert.deepEqual(
        store.list().map((k) => k.kid),
        [current.kid],
      );
    }));

  test('refuses a malformed key file', () =>
    withDir((dir) => {
      const path = join(dir, 'k.json');
      for (const content of [
        'not json',
        '{}',
        '{"keys":[]}',
        '{"keys":[{"kid":"zz","alg":"HS256","secret":"x","createdAt":1,"retiresAt":null}]}',
      ]) {
        writeFileSync(path, content);
        assert.throws(
          () => SigningKeyStore.open({ path, overlapMs: 1 }),
          (e: unknown) => e instanceof SigningKeyError && e.code === 'SIGNING_KEYS_INVALID',
        );
      }
    }));
});

describe('TokenCodec', () => {
  test('refuses tokens issued in the future and checks expiry on the injected clock', async () => {
    await withDir(async (dir) => {
      let now = 1_000_000_000;
      const keys = SigningKeyStore.open({ path: join(dir, 'k.json'), overlapMs: 1 });
      const codec = await TokenCodec.create({ now: () => now }, { keys });
      const issued = codec.sign({ subject: 's', role: 'reader', ttlMs: 10_000 });
      assert.equal(codec.verify(issued.token).subject, 's');
      now -= 120_000;
      assert.throws(
        () => codec.verify(issued.token),
        (e: unknown) => e instanceof AuthError && e.details['reason'] === 'issued-in-future',
      );
      now += 120_000 + 10_000;
      assert.throws(
        () => codec.verify(issued.token),
        (e: unknown) => e instanceof AuthError && e.code === 'AUTH_TOKEN_EXPIRED',
      );
      assert.equal(codec.verify(issued.token, { ignoreExpiry: true }).role, 'reader');
    });
  });

  test('refuses alg none', async () => {
    await withDir(async (dir) => {
      const keys = SigningKeyStore.open({ path: join(dir, 'k.json'), overlapMs: 1 });
      const codec = await TokenCodec.create({}, { keys });
      const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
      const token = `${b64({ alg: 'none', kid: keys.current.kid })}.${b64({ sub: 'x', role: 'admin' })}.`;
      assert.throws(
        () => codec.verify(token),
        (e: unknown) => e instanceof AuthError && e.code === 'AUTH_TOKEN_INVALID',
      );
    });
  });
});

describe('publicRoutes config', () => {
  test('takes a list or a comma-separated string of "METHOD /path" entries', () =>
    withDir((dir) => {
      const fromEnv = loadConfig(
        dir,
        {},
        { UTXOD_PUBLIC_ROUTES: 'GET /api/v1/mempool, GET /a/:b' },
      );
      assert.deepEqual(fromEnv.publicRoutes, ['GET /api/v1/mempool', 'GET /a/:b']);
      assert.throws(
        () => loadConfig(dir, { publicRoutes: 'mempool' }, {}),
        (e: unknown) => e instanceof ConfigError,
      );
    }));
});
