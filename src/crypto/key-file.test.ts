import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createKeyFile, KeyFileError, readKeyFile } from './key-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'utxod-keys-'));

describe('key files', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes 0600 files that read back to the same key, and never overwrites', () => {
    const path = join(dir, 'a.json');
    const pair = createKeyFile(path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readKeyFile(path), pair);
    assert.throws(() => createKeyFile(path), /refusing to overwrite/);
  });

  it('refuses files others can read, and malformed or inconsistent ones', () => {
    const path = join(dir, 'b.json');
    createKeyFile(path);
    chmodSync(path, 0o644);
    assert.throws(
      () => readKeyFile(path),
      (e: unknown) => e instanceof KeyFileError && /chmod 600/.test(e.message),
    );
    const bad = join(dir, 'c.json');
    writeFileSync(
      bad,
      JSON.stringify({ type: 'secp256k1', privateKey: '00'.repeat(32), publicKey: '02' }),
      { mode: 0o600 },
    );
    assert.throws(() => readKeyFile(bad), /not a valid secp256k1 key/);
    writeFileSync(
      bad,
      JSON.stringify({
        type: 'secp256k1',
        privateKey: '11'.repeat(32),
        publicKey: `02${'00'.repeat(32)}`,
      }),
      { mode: 0o600 },
    );
    assert.throws(() => readKeyFile(bad), /does not match/);
    assert.throws(() => readKeyFile(join(dir, 'missing.json')), /does not exist/);
  });
});
