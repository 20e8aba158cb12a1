import { readFileSync } from 'node:fs';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

/** Issue #14 scenario 12: one validator's data directory (a small tmpfs) fills up. */
export const scenario: Scenario = {
  name: 'disk-full',
  purpose:
    'fill the tmpfs data directory of one of four validators: it stops with a clear error, the others go on, nothing it committed is lost, and it rejoins once space is freed',
  validators: 4,
  ci: false,
  defaultSeconds: 60,
  async run({ cluster, apis, report, seconds, recoveryBoundMs }) {
    const victim = 3;
    const node = cluster.node(victim);
    await cluster.stop(victim);
    cluster.mountTmpfs(victim, 64);
    cluster.start(victim);
    report.log('note', `node${victim} restarted on a 64 MB tmpfs data directory`);
    await awaitProgress(apis, report, recoveryBoundMs, `node${victim} on tmpfs`, [victim]);
    const logBefore = readFileSync(node.logPath, 'utf8').length;
    const filled = cluster.fillDisk(victim);
    report.log('fault', `node${victim}'s disk filled (${(filled / 1e6).toFixed(1)} MB written)`);
    // Its last answered tip is what it had committed; a restart must come back with at least that.
    let lastTip = -1;
    const deadline = Date.now() + seconds * 1000;
    while (node.process !== null && Date.now() < deadline) {
      lastTip = await apis[victim]!.tipHeight().catch(() => lastTip);
      await sleep(250);
    }
    const stopped = node.process === null;
    report.check(
      `node${victim} stops on a full disk`,
      stopped && node.lastExit?.signal === null && node.lastExit.code !== 0,
      stopped
        ? `exit code ${node.lastExit?.code}, signal ${node.lastExit?.signal}, last tip ${lastTip}`
        : `still running ${seconds} s after the disk filled (tip ${lastTip})`,
    );
    const log = readFileSync(node.logPath, 'utf8').slice(logBefore);
    const reason = /ENOSPC|no space left/i.exec(log);
    report.check(
      'a clear error names the full disk',
      reason !== null,
      reason === null
        ? 'no ENOSPC / "no space left" in its log'
        : `log: ...${log.slice(Math.max(0, reason.index - 120), reason.index + 80).replace(/\s+/g, ' ')}...`,
    );
    await expectProgress(
      apis,
      others(cluster.nodes.length, [victim]),
      { blocks: 2, boundMs: recoveryBoundMs, name: `chain goes on without node${victim}` },
      report,
    );
    if (!stopped) await cluster.kill(victim);
    cluster.freeDisk(victim);
    report.log('heal', `space freed on node${victim}`);
    cluster.start(victim);
    const restartedAt = Date.now();
    let firstTip = -1;
    for (let i = 0; i < 240 && firstTip < 0; i++) {
      firstTip = await apis[victim]!.tipHeight().catch(() => -1);
      if (firstTip < 0) await sleep(250);
    }
    report.startupsMs.push(Date.now() - restartedAt);
    report.check(
      'nothing committed is lost',
      firstTip >= lastTip && lastTip > 0,
      `tip ${lastTip} before the disk filled, ${firstTip} on restart (API answering ${((Date.now() - restartedAt) / 1000).toFixed(1)} s after start)`,
    );
    await awaitProgress(
      apis,
      report,
      recoveryBoundMs,
      `node${victim} rejoining after space was freed`,
    );
  },
};
