import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ClusterNode } from '../harness/cluster.ts';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import { checkNoConflictingVotes, evidenceSeen, walRecords } from '../harness/operator.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

/** Issue #14 fault primitive: a validator's consensus WAL is damaged while it is down (a flipped byte, a torn tail). */
export const scenario: Scenario = {
  name: 'corrupt-wal',
  purpose:
    'kill -9 a validator and flip one byte of a record in the middle of its consensus WAL: it refuses to start with WAL_CORRUPT naming the byte offset; moved aside (as docs/consensus.md tells operators) it rejoins; a WAL cut in its last record is repaired on start; no fork, no conflicting vote',
  validators: 4,
  ci: false,
  defaultSeconds: 0,
  async run({ net, cluster, apis, report, recoveryBoundMs }) {
    const victim = 2;
    const node = cluster.node(victim);
    const wal = join(node.datadir, 'consensus.wal');
    const honest = others(cluster.nodes.length, [victim]);
    const evidenceBefore = await evidenceSeen(net, cluster.nodes);

    // 1. A flipped byte inside a record that is not the last one.
    await cluster.kill(victim);
    const records = walRecords(wal);
    const target = records[Math.floor(records.length / 2)];
    if (target === undefined || records.length < 3)
      throw new Error(`node${victim}'s WAL has only ${records.length} records`);
    copyFileSync(wal, `${wal}.before-fault`);
    const flipAt = target.offset + 8 + Math.floor(target.length / 2);
    flipByte(wal, flipAt);
    report.log(
      'fault',
      `node${victim} killed; byte ${flipAt} of its WAL flipped (record ${records.indexOf(target) + 1} of ${records.length}, kind ${target.kind}, at offset ${target.offset})`,
    );
    const logFrom = readFileSync(node.logPath, 'utf8').length;
    const startedAt = Date.now();
    cluster.start(victim);
    await waitForExit(node, 90_000);
    // The process's last stderr line reaches the log file through a pipe after its exit.
    await sleep(2_000);
    const log = readFileSync(node.logPath, 'utf8').slice(logFrom);
    report.check(
      `node${victim} refuses to start on a corrupt WAL`,
      node.process === null && node.lastExit?.code !== 0 && node.lastExit?.code !== null,
      node.process === null
        ? `exit code ${node.lastExit?.code}, signal ${node.lastExit?.signal}, ${((Date.now() - startedAt) / 1000).toFixed(1)} s after start`
        : 'still running 90 s after start',
    );
    const named =
      /WAL_CORRUPT[^\n]*?offset (\d+)/.exec(log) ?? /offset (\d+)[^\n]*WAL_CORRUPT/.exec(log);
    report.check(
      'the error names WAL_CORRUPT and the record',
      named !== null && Number(named[1]) === target.offset,
      named === null
        ? `no WAL_CORRUPT with an offset in its log: ${log.slice(-400).replace(/\s+/g, ' ')}`
        : `log names offset ${named[1]} (the damaged record starts at ${target.offset}): ...${named[0].slice(0, 220)}...`,
    );
    if (node.process !== null) await cluster.kill(victim);
    await expectProgress(
      apis,
      honest,
      { blocks: 2, boundMs: recoveryBoundMs, name: `chain goes on without node${victim}` },
      report,
    );
    // The documented recovery: the operator moves the file aside; the signer state still guards signing.
    renameSync(wal, `${wal}.corrupt`);
    report.log('heal', `node${victim}'s WAL moved aside (consensus.wal.corrupt); started`);
    cluster.start(victim);
    await awaitProgress(apis, report, recoveryBoundMs, `node${victim} without its WAL`, [victim]);

    // 2. A write torn by a crash: the last record cut short.
    // A start-up on a loaded machine may not have reached the engine (which creates the WAL) yet.
    for (let i = 0; i < 240 && !existsSync(wal); i++) await sleep(500);
    await sleep(5_000);
    await cluster.kill(victim);
    const tail = walRecords(wal).at(-1);
    if (tail === undefined) throw new Error(`node${victim} wrote no WAL record after the restart`);
    const cutTo = tail.offset + 8 + Math.floor(tail.length / 2);
    truncateSync(wal, cutTo);
    report.log(
      'fault',
      `node${victim} killed; its WAL cut to ${cutTo} bytes, inside its last record (offset ${tail.offset}, ${tail.length + 8} bytes)`,
    );
    const logFrom2 = readFileSync(node.logPath, 'utf8').length;
    cluster.start(victim);
    await awaitProgress(apis, report, recoveryBoundMs, `node${victim} on a torn WAL`, [victim]);
    const log2 = readFileSync(node.logPath, 'utf8').slice(logFrom2);
    const torn = /"event":"wal-torn-tail"[^\n]*/.exec(log2);
    report.check(
      'a torn last record is cut off with a warning',
      torn?.[0].includes(`"offset":${tail.offset}`) === true,
      torn === null ? 'no wal-torn-tail warning in its log' : torn[0].slice(0, 240),
    );

    await sleep(3_000);
    await checkNoConflictingVotes(net, cluster.nodes, evidenceBefore, victim, report);
  },
};

function flipByte(path: string, at: number): void {
  const bytes = readFileSync(path);
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, Buffer.from([bytes[at]! ^ 0xff]), 0, 1, at);
  } finally {
    closeSync(fd);
  }
}

async function waitForExit(node: ClusterNode, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (node.process !== null && Date.now() < deadline) await sleep(250);
}
