import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { assertWritableDatadir, DatadirError } from './datadir.ts';

describe('assertWritableDatadir', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'utxod-datadir-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  it('creates a missing data directory and leaves no probe file behind', () => {
    const root = join(tmp, 'new', 'data');
    assertWritableDatadir(root);
    assert.deepEqual(readdirSync(root), []);
  });

  it('names the directory and the cause when it cannot be written', () => {
    // Tests run as root, which ignores mode bits: a file in the way fails for anyone.
    const blocker = join(tmp, 'file');
    writeFileSync(blocker, '');
    const root = join(blocker, 'data');
    assert.throws(
      () => assertWritableDatadir(root),
      (error: unknown) =>
        error instanceof DatadirError &&
        error.code === 'DATADIR_NOT_WRITABLE' &&
        error.message.includes(root) &&
        error.message.includes('ENOTDIR'),
    );
  });
});
