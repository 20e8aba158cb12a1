/**
 * What an operator reads from a real `utxod start` (issue #12): one info line
 * per listener, and after `utxod rollback --force` on a validator one clear
 * warning that says what happened and what to do, with no stack and no
 * repeat, until `utxod rollback 0 --reset-signer` lets it produce again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { initNodeDir, type LogLine, NodeProcess, runUtxod } from '../support/node-process.ts';

const datadir = mkdtempSync(join(tmpdir(), 'utxod-node-logs-'));
const running: NodeProcess[] = [];

function start(extra: string[] = []): NodeProcess {
  const node = NodeProcess.start(datadir, ['--block-interval', '200', ...extra]);
  running.push(node);
  return node;
}

const INFO = 30;
const WARN = 40;

describe('node logs an operator reads', () => {
  after(async () => {
    for (const node of running) if (node.child.exitCode === null) await node.stop('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('logs each listener once at info, not the framework’s own line as well', async () => {
    initNodeDir(datadir);
    const node = start();
    await node.listenAddr();
    await node.waitForLog((line) => line.msg === 'committed block' && Number(line['height']) >= 5);
    await node.stop();
    const listening = node.logs
      .filter((line) => line.level >= INFO && /listening/i.test(line.msg))
      .map((line) => line.msg)
      .sort();
    assert.deepEqual(listening, ['api listening', 'metrics listening', 'p2p listening']);
  });

  it('after rollback --force, one warning without a stack; --reset-signer lets it produce again', async () => {
    const refused = runUtxod(['rollback', '3', '--datadir', datadir]);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /--force/);
    const rolled = runUtxod(['rollback', '3', '--force', '--datadir', datadir]);
    assert.equal(rolled.status, 0, rolled.stderr);
    const tip = Number(/tip is now (\d+)/.exec(rolled.stdout)?.[1]);
    assert.ok(tip >= 2, rolled.stdout);

    const stalled = start(['--log-level', 'debug']);
    const warning = await stalled.waitForLog((line) => line['event'] === 'signer-ahead-of-chain');
    // The round's proposal and prevote are both refused: one warning covers both.
    const refusals = (l: LogLine) => /^(vote|proposal) not signed$/.test(l.msg);
    await stalled.waitForLog(() => stalled.logs.filter(refusals).length >= 1, 60_000);
    await stalled.stop();
    assert.equal(warning.level, WARN);
    assert.match(warning.msg, /rollback 0 --reset-signer/);
    assert.match(warning.msg, new RegExp(`passes height ${tip + 3}`));
    assert.equal(stalled.logs.filter((l) => l['event'] === 'signer-ahead-of-chain').length, 1);
    for (const line of stalled.logs.filter(refusals)) assert.ok(line.level < INFO, line.msg);
    assert.deepEqual(
      stalled.logs.filter((l) => l.level >= 50 || JSON.stringify(l).includes('"stack"')),
      [],
    );
    assert.equal(stalled.committedHeight, -1, 'nothing is produced below the signed height');

    const reset = runUtxod(['rollback', '0', '--reset-signer', '--datadir', datadir]);
    assert.equal(reset.status, 0, reset.stderr);
    assert.match(reset.stdout, /signing state reset/);
    const resumed = start();
    await resumed.waitForLog((l) => l.msg === 'committed block' && Number(l['height']) > tip + 3);
    await resumed.stop();
    assert.equal(resumed.logs.filter((l) => l['event'] === 'signer-ahead-of-chain').length, 0);
  });
});
