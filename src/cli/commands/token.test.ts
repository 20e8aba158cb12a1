import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuthService } from '../../api/auth/service.ts';
import { signingKeysPath } from '../../api/auth/signing-keys.ts';
import { initDatadir } from '../../node/datadir.ts';
import { Database } from '../../storage/db.ts';
import { parseTtl } from './token.ts';

const BIN = fileURLToPath(new URL('../../../bin/utxod.js', import.meta.url));

function utxod(...args: string[]) {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, UTXOD_DATADIR: '' },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('utxod token issue', () => {
  let datadir: string;
  before(() => {
    datadir = mkdtempSync(join(tmpdir(), 'utxod-token-cli-'));
    initDatadir(datadir);
  });
  after(() => rmSync(datadir, { recursive: true, force: true }));

  test('mints a token the node accepts, from the key file in the data directory', async () => {
    const before = Math.floor(Date.now() / 1000);
    const run = utxod(
      'token',
      'issue',
      '--role',
      'operator',
      '--ttl',
      '2h',
      '--subject',
      'ops-team',
      '--json',
      '--datadir',
      datadir,
    );
    assert.equal(run.code, 0, run.stderr);
    const issued = JSON.parse(run.stdout) as { token: string; expiresAt: number; keyId: string };
    assert.ok(issued.expiresAt >= before + 7200 && issued.expiresAt <= before + 7200 + 60);
    assert.equal(statSync(signingKeysPath(datadir)).mode & 0o777, 0o600);

    const db = await Database.open({ path: join(datadir, 'chain'), syncWrites: false });
    const service = await AuthService.open(
      {
        signingKeysPath: signingKeysPath(datadir),
        signingKeyOverlapMs: 3_600_000,
        accessTokenTtlMs: 60_000,
        refreshTokenTtlMs: 3_600_000,
        lockout: { maxAttempts: 5, windowMs: 60_000, durationMs: 60_000 },
        scryptLogN: 10,
        purgeIntervalMs: 0,
      },
      { db },
    );
    try {
      const auth = service.authenticate(issued.token);
      assert.equal(auth.role, 'operator');
      assert.equal(auth.subject, 'ops-team');
      assert.equal(auth.keyId, issued.keyId);
    } finally {
      service.close();
      await db.close();
    }
  });

  test('prints only the token without --json', () => {
    const run = utxod('token', 'issue', '--role', 'reader', '--datadir', datadir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  test('refuses an unknown role or a bad ttl', () => {
    const role = utxod('token', 'issue', '--role', 'root', '--datadir', datadir);
    assert.equal(role.code, 1);
    assert.match(role.stderr, /--role must be one of reader, operator, admin/);
    const ttl = utxod(
      'token',
      'issue',
      '--role',
      'reader',
      '--ttl',
      'forever',
      '--datadir',
      datadir,
    );
    assert.equal(ttl.code, 1);
    assert.match(ttl.stderr, /--ttl must look like/);
  });

  test('parseTtl', () => {
    assert.equal(parseTtl('90s'), 90_000);
    assert.equal(parseTtl('15m'), 900_000);
    assert.equal(parseTtl('1h'), 3_600_000);
    assert.equal(parseTtl('30d'), 30 * 86_400_000);
    assert.throws(() => parseTtl('0h'));
    assert.throws(() => parseTtl('400d'));
    assert.throws(() => parseTtl('1 h'));
  });
});
