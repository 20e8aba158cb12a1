import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import { checkNoConflictingVotes, evidenceSeen, utxodCli } from '../harness/operator.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, highestTip, others } from '../harness/steps.ts';

/** Issue #14 scenario 10: back up a running validator, destroy its data directory, restore, rejoin. */
export const scenario: Scenario = {
  name: 'backup-restore',
  purpose:
    'online backup (with keys) of a running validator under load, kill -9 and delete its data directory, restore the backup into it: the chain never pauses, the restored validator rejoins within the bound, proposes again, and no node sees a conflicting vote from it',
  validators: 4,
  ci: false,
  defaultSeconds: 0,
  async run({ net, cluster, apis, report, recoveryBoundMs }) {
    const victim = 3;
    const node = cluster.node(victim);
    const all = cluster.nodes.map((n) => n.net.index);
    const admin = await utxodCli([
      'token',
      'issue',
      '--datadir',
      node.datadir,
      '--role',
      'admin',
      '--ttl',
      '1h',
    ]);
    if (admin.code !== 0) throw new Error(`token issue failed: ${admin.stderr}`);
    const adminToken = admin.stdout.trim().split('\n').pop() ?? '';
    const file = join(cluster.dir, `node${victim}.utxobak`);

    const tipBefore = await highestTip(apis, all);
    report.log('fault', `backup of node${victim} (running, under load) at tip ${tipBefore}`);
    const backup = await utxodCli([
      'backup',
      '--out',
      file,
      '--include-keys',
      '--rpc',
      node.rpcUrl,
      '--token',
      adminToken,
    ]);
    const tipAfter = await highestTip(apis, all);
    report.check(
      'online backup written',
      backup.code === 0 && existsSync(file),
      `exit ${backup.code} in ${(backup.ms / 1000).toFixed(1)} s: ${(backup.stdout + backup.stderr).trim().replace(/\s+/g, ' ').slice(0, 300)}`,
    );
    report.check(
      'the chain went on during the backup',
      tipBefore >= 0 && tipAfter > tipBefore,
      `tip ${tipBefore} -> ${tipAfter} over ${(backup.ms / 1000).toFixed(1)} s`,
    );
    // Blocks signed after the backup exist only in the data about to be lost.
    await sleep(5_000);
    const evidenceBefore = await evidenceSeen(net, cluster.nodes);
    const lostTip = await highestTip(apis, [victim]);
    await cluster.kill(victim);
    rmSync(node.datadir, { recursive: true, force: true });
    report.log(
      'fault',
      `node${victim} killed (-9) at tip ${lostTip} and its data directory deleted (WAL and signer state included)`,
    );
    await expectProgress(
      apis,
      others(cluster.nodes.length, [victim]),
      { blocks: 2, boundMs: recoveryBoundMs, name: `chain goes on without node${victim}` },
      report,
    );

    const restore = await utxodCli(['restore', file, '--datadir', node.datadir]);
    const restoredAt = /restored \S+ at height (\d+)/.exec(restore.stdout);
    report.check(
      'restore re-verifies the chain and says OK',
      restore.code === 0 && /^OK$/m.test(restore.stdout),
      `exit ${restore.code} in ${(restore.ms / 1000).toFixed(1)} s: ${restore.stdout.trim().replace(/\s+/g, ' ').slice(0, 300)}${restore.code === 0 ? '' : ` ${restore.stderr.slice(0, 300)}`}`,
    );
    report.log(
      'heal',
      `node${victim} restored at height ${restoredAt?.[1] ?? '?'} (it had ${lostTip}); started`,
    );
    cluster.start(victim);
    await awaitProgress(apis, report, recoveryBoundMs, `restore of node${victim}`, [victim]);

    // The restored validator must sign again, and never a vote that conflicts with one it signed before.
    const key = node.validatorKey;
    const from = (await highestTip(apis, [victim])) + 1;
    const deadline = Date.now() + 4 * recoveryBoundMs;
    let proposedAt: number | null = null;
    while (proposedAt === null && Date.now() < deadline) {
      await sleep(1_000);
      const tip = await highestTip(apis, [0]);
      if (tip < from) continue;
      const headers = await apis[0]!.headers(from, tip - from + 1).catch(() => []);
      proposedAt = headers.find((h) => h.proposer === key)?.height ?? null;
    }
    report.check(
      `restored node${victim} proposes again`,
      proposedAt !== null,
      proposedAt === null
        ? `no block from height ${from} on was proposed by node${victim} within ${(4 * recoveryBoundMs) / 1000} s`
        : `block ${proposedAt} was proposed by node${victim}`,
    );
    await sleep(3_000);
    await checkNoConflictingVotes(net, cluster.nodes, evidenceBefore, victim, report);
  },
};
