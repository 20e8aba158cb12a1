/**
 * Backup of a running node while it commits blocks every 100 ms and takes
 * transactions, restore into a new data directory, verify-chain --full, and
 * the restored node rejoins the network. A damaged copy and a backup of
 * another chain are refused; keys travel only with --include-keys.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { initNodeDir, NodeProcess, runUtxod } from '../support/node-process.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-backup-'));
const started: NodeProcess[] = [];

describe('backup and restore of a running node', { timeout: 180_000 }, () => {
  let producerDir = '';
  let producer: NodeProcess;
  const backupFile = join(root, 'node.utxobak');

  before(async () => {
    producerDir = initNodeDir(join(root, 'producer'));
    producer = NodeProcess.start(producerDir, [
      '--p2p-host',
      '127.0.0.1',
      '--block-interval',
      '100',
    ]);
    started.push(producer);
    await producer.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) >= 20,
      60_000,
    );
  });
  after(async () => {
    await Promise.all(started.map((n) => n.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  });

  it('backs up while blocks keep committing, restores, verifies and rejoins', async () => {
    const before = producer.committedHeight;
    const result = runUtxod(['backup', '--out', backupFile, '--datadir', producerDir]);
    assert.equal(result.status, 0, result.stderr);
    const height = Number(/at height (\d+)/.exec(result.stdout)?.[1]);
    assert.ok(height >= before, `backup at ${height}, node was at ${before}`);
    // Production went on during and after the backup.
    await producer.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) > height + 5,
      20_000,
    );

    const restored = join(root, 'restored');
    const restore = runUtxod(['restore', backupFile, '--datadir', restored]);
    assert.equal(restore.status, 0, restore.stderr);
    assert.match(restore.stdout, /OK/);
    assert.match(restore.stdout, new RegExp(`verified blocks 1\\.\\.${height}`));
    assert.equal(
      existsSync(join(restored, 'keys', 'validator.json')),
      false,
      'no keys without --include-keys',
    );
    const verify = runUtxod(['verify-chain', '--full', '--datadir', restored]);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, new RegExp(`height: +${height}\\b`));

    // The restored node (a follower now: no validator key) catches up with the producer.
    const follower = NodeProcess.start(restored, [
      '--p2p-host',
      '127.0.0.1',
      '--bootstrap',
      await producer.listenAddr(),
    ]);
    started.push(follower);
    const first = await follower.waitForLog((l) => l.msg === 'node initialised', 20_000);
    assert.equal(Number(first['height']), height);
    const target = producer.committedHeight + 2;
    await follower.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) >= target,
      40_000,
    );
  });

  it('a damaged backup is refused and leaves nothing behind', () => {
    const bytes = readFileSync(backupFile);
    bytes[Math.floor(bytes.length / 2)]! ^= 1;
    const damaged = join(root, 'damaged.utxobak');
    writeFileSync(damaged, bytes);
    const target = join(root, 'from-damaged');
    const result = runUtxod(['restore', damaged, '--datadir', target]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /BACKUP_DAMAGED/);
    assert.equal(existsSync(join(target, 'chain')), false);
  });

  it('a backup of another chain is refused by a data directory initialised for this one', () => {
    const other = initNodeDir(join(root, 'other-chain'));
    const result = runUtxod(['restore', backupFile, '--datadir', other]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, /BACKUP_FOREIGN/);
    assert.equal(existsSync(join(other, 'chain')), false);
  });

  it('keys are in the backup only with --include-keys, which warns', () => {
    const withKeys = join(root, 'keys.utxobak');
    const result = runUtxod([
      'backup',
      '--out',
      withKeys,
      '--include-keys',
      '--datadir',
      producerDir,
    ]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /warning: the backup will hold the validator key/);
    const target = join(root, 'restored-keys');
    const restore = runUtxod(['restore', withKeys, '--datadir', target]);
    assert.equal(restore.status, 0, restore.stderr);
    assert.deepEqual(
      readFileSync(join(target, 'keys', 'validator.json')),
      readFileSync(join(producerDir, 'keys', 'validator.json')),
    );
    // Tokens the operator issued before the loss still verify on the restored node.
    assert.deepEqual(
      readFileSync(join(target, 'keys', 'api-signing-keys.json')),
      readFileSync(join(producerDir, 'keys', 'api-signing-keys.json')),
    );
  });
});
