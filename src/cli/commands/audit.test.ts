import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuditLog, auditKey } from '../../audit/log.ts';
import { dataPaths, initDatadir } from '../../node/datadir.ts';
import { Database } from '../../storage/db.ts';

const BIN = fileURLToPath(new URL('../../../bin/utxod.js', import.meta.url));

function utxod(...args: string[]) {
  const run = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('utxod audit verify', () => {
  let datadir: string;
  before(async () => {
    datadir = mkdtempSync(join(tmpdir(), 'utxod-audit-cli-'));
    initDatadir(datadir);
    const db = await Database.open({ path: dataPaths(datadir).chainDb, syncWrites: false });
    const log = await AuditLog.open({}, { db });
    for (let i = 0; i < 4; i++)
      await log.append({
        actor: 'admin',
        action: 'admin.test',
        outcome: 'success',
        details: { i },
      });
    await db.close();
  });
  after(() => rmSync(datadir, { recursive: true, force: true }));

  test('accepts an intact log', () => {
    const run = utxod('audit', 'verify', '--datadir', datadir);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /entries: {2}4/);
    assert.match(run.stdout, /^OK$/m);
  });

  test('reports a removed entry and where, with a failing exit code', async () => {
    const db = await Database.open({ path: dataPaths(datadir).chainDb, syncWrites: false });
    await db.write([{ type: 'del', key: auditKey(2) }]);
    await db.close();
    const run = utxod('audit', 'verify', '--datadir', datadir);
    assert.equal(run.code, 2);
    assert.match(run.stdout, /seq 3: gap: entries 2\.\.2 are missing/);
    assert.match(run.stdout, /FAILED/);
  });

  test('refuses a directory without a database', () => {
    const run = utxod('audit', 'verify', '--datadir', join(datadir, 'nothing-here'));
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^utxod: error \[DATADIR_MISSING\]: data directory \S+nothing-here does not exist: run `utxod init --datadir \S+nothing-here` \(or `utxod start`\) first/,
    );
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  });
});
