import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/utxod.js', import.meta.url));
const ESCROW = fileURLToPath(new URL('../../examples/contracts/escrow.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'utxod-contract-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function utxod(...args: string[]) {
  const run = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, UTXOD_DATADIR: dir, UTXOD_RPC: 'http://127.0.0.1:9' },
  });
  return { code: run.status, stdout: run.stdout, stderr: run.stderr };
}

function file(name: string, source: string): string {
  const path = join(dir, name);
  writeFileSync(path, source);
  return path;
}

describe('utxod contract', () => {
  test('check validates locally and prints methods, code hash and deploy gas', () => {
    const run = utxod('contract', 'check', ESCROW);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /methods: {4}init, spend/);
    assert.match(run.stdout, /code hash: {2}[0-9a-f]{64}/);
    assert.match(run.stdout, /deploy gas: \d+/);
  });

  test('check refuses what a node would refuse at deploy, with the contract error code', () => {
    const run = utxod(
      'contract',
      'check',
      file('bad.js', 'export function f(ctx) { return eval("1"); }'),
    );
    assert.notEqual(run.code, 0);
    assert.match(
      run.stderr,
      /^utxod: error \[CONTRACT_FORBIDDEN\]: \S+bad\.js: `eval` is not available to contracts\n$/,
    );
    const missing = utxod('contract', 'check', join(dir, 'missing.js'));
    assert.match(missing.stderr, /^utxod: error \[USAGE\]: cannot read \S+missing\.js: ENOENT/);
    assert.equal(missing.stderr.split('\n').filter((l) => l !== '').length, 1);
  });

  test('deploy and call refuse bad input before reading a key or asking the node', () => {
    const noKey = join(dir, 'missing.key');
    const notJson = utxod('contract', 'deploy', ESCROW, '--from-key', noKey, '--args', '{');
    assert.notEqual(notJson.code, 0);
    assert.match(notJson.stderr, /--args is not JSON/);
    const notArray = utxod('contract', 'deploy', ESCROW, '--from-key', noKey, '--args', '{"a":1}');
    assert.match(notArray.stderr, /--args must be a JSON array/);
    const noInit = utxod(
      'contract',
      'deploy',
      file('plain.js', 'export function f(ctx) { return 1; }'),
      '--from-key',
      noKey,
      '--args',
      '[1]',
    );
    assert.match(noInit.stderr, /exports no init/);
    const forbidden = utxod('contract', 'deploy', join(dir, 'bad.js'), '--from-key', noKey);
    assert.match(forbidden.stderr, /CONTRACT_FORBIDDEN/);
    const badId = utxod('contract', 'call', 'xyz', 'get', '--from-key', noKey);
    assert.match(badId.stderr, /contract id must be 64 lowercase hex/);
    const badPrice = utxod(
      'contract',
      'call',
      'a'.repeat(64),
      'get',
      '--from-key',
      noKey,
      '--gas-price',
      '0',
    );
    assert.match(badPrice.stderr, /--gas-price/);
    const badQuery = utxod('contract', 'query', 'a'.repeat(64), 'get', '--args', '1');
    assert.match(badQuery.stderr, /--args must be a JSON array/);
  });
});
