import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Equivocator } from '../harness/equivocator.ts';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import { evidenceSeen, utxodCli } from '../harness/operator.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, expectStall, tipsOf } from '../harness/steps.ts';

/** Issue #14 scenario 6: an equivocating proposer plus a partition (CometBFT's conflicting-proposals test). */
export const scenario: Scenario = {
  name: 'equivocating-proposer',
  purpose:
    'validator 3 (a key the harness holds, no node) proposes block A with its votes to {0,1} and block B to {2} for the same height and round while the network is split {0,1} | {2}: at most one of them commits, no fork, and after the heal the chain goes on within the bound',
  validators: 4,
  ci: false,
  defaultSeconds: 0,
  async run({ net, cluster, apis, report, recoveryBoundMs }) {
    const byz = 3;
    const honest = [0, 1, 2];
    await cluster.kill(byz);
    report.log('fault', `node${byz} stopped: its validator key now belongs to the harness`);
    await expectProgress(
      apis,
      honest,
      { blocks: 2, boundMs: recoveryBoundMs, name: 'three honest validators commit' },
      report,
    );
    net.partition([
      [0, 1],
      [2, byz],
    ]);
    report.log(
      'fault',
      'partition {0,1} | {2} (20 and 10 of 40 power: neither side commits alone)',
    );
    await expectStall(apis, honest, { ms: 4_000, slack: 1, name: 'neither side commits' }, report);

    // The Byzantine blocks are built on a copy of node 0's chain at the halted tip.
    const node0 = cluster.node(0);
    const admin = await utxodCli(['token', 'issue', '--datadir', node0.datadir, '--role', 'admin']);
    const file = join(cluster.dir, 'node0-for-equivocator.utxobak');
    const copy = join(cluster.dir, 'data', 'equivocator-chain');
    const backup = await utxodCli([
      'backup',
      '--out',
      file,
      '--rpc',
      node0.rpcUrl,
      '--token',
      admin.stdout.trim().split('\n').pop() ?? '',
    ]);
    const restore = await utxodCli(['restore', file, '--datadir', copy]);
    if (backup.code !== 0 || restore.code !== 0)
      throw new Error(`copying node0's chain failed: ${backup.stderr} ${restore.stderr}`);
    const eq = await Equivocator.open(copy, cluster.node(byz).datadir);
    try {
      const tips = await tipsOf(apis, honest);
      report.log(
        'note',
        `Byzantine validator index ${eq.index} builds on height ${eq.height - 1}; honest tips ${tips.join('/')}`,
      );
      if (tips[0] !== eq.height - 1)
        throw new Error(`node0 moved past the copied tip ${eq.height - 1} (${tips[0]})`);
      await eq.connect([
        { name: 'A', addresses: [cluster.p2pAddress(0), cluster.p2pAddress(1)] },
        { name: 'B', addresses: [cluster.p2pAddress(2)] },
      ]);
      const evidenceBefore = await evidenceSeen(net, cluster.nodes.slice(0, 3));

      // Whenever either side reaches a round the Byzantine validator proposes, both sides get their own block.
      const rounds = new Set<number>();
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline) {
        for (const probe of [0, 2]) {
          const c = await apis[probe]!.consensus().catch(() => null);
          if (
            c === null ||
            c.height !== eq.height ||
            c.proposer.publicKey !== eq.publicKeyHex ||
            rounds.has(c.round)
          )
            continue;
          rounds.add(c.round);
          const a = await eq.equivocate('A', 0, c.round);
          const b = await eq.equivocate('B', 1, c.round);
          report.log(
            'fault',
            `node${byz} (Byzantine) at height ${eq.height} round ${c.round}: block ${a.blockHash.slice(0, 16)} with its prevote and precommit to {0,1}, block ${b.blockHash.slice(0, 16)} to {2}`,
          );
        }
        const [tipA, tipB] = await tipsOf(apis, [0, 2]);
        if (rounds.size >= 2 || (rounds.size >= 1 && (tipA! >= eq.height || tipB! >= eq.height)))
          break;
        await sleep(150);
      }
      report.check(
        'the Byzantine validator equivocated',
        rounds.size > 0 && eq.blockHash('A') !== eq.blockHash('B'),
        rounds.size === 0
          ? 'no round of its turn was seen within 120 s'
          : `height ${eq.height}, rounds ${[...rounds].join(',')}: A ${eq.blockHash('A')?.slice(0, 16)}, B ${eq.blockHash('B')?.slice(0, 16)}`,
      );
      await sleep(3_000);
      const during = await tipsOf(apis, honest);
      const atHeight = await Promise.all(
        honest.map((i) =>
          apis[i]!.headers(eq.height, 1)
            .then((h) => h[0]?.hash ?? null)
            .catch(() => null),
        ),
      );
      const named = (hash: string | null) =>
        hash === null
          ? 'nothing'
          : hash === eq.blockHash('A')
            ? 'A'
            : hash === eq.blockHash('B')
              ? 'B'
              : `honest ${hash.slice(0, 16)}`;
      report.log(
        'note',
        `during the partition: tips ${during.join('/')}; at height ${eq.height}: ${atHeight.map(named).join(' / ')}`,
      );
      const committed = new Set(atHeight.filter((h) => h !== null));
      report.check(
        'at most one block at the equivocated height',
        committed.size <= 1,
        `nodes 0,1,2 hold ${atHeight.map(named).join(' / ')} at height ${eq.height}`,
      );
      report.check(
        'block B (seen by 10 + 10 of 40 power) is not committed',
        !atHeight.includes(eq.blockHash('B')),
        `node2 holds ${named(atHeight[2] ?? null)} at height ${eq.height}`,
      );

      net.heal();
      report.log('heal', 'partition healed');
      // Only the honest nodes: node3 is stopped (the harness holds its key), so
      // a check over every node could never pass, however fast the chain went on.
      await awaitProgress(
        honest.map((i) => apis[i]!),
        report,
        recoveryBoundMs,
        'the heal',
        [],
      );
      const after = await Promise.all(
        honest.map((i) => apis[i]!.headers(eq.height, 1).then((h) => h[0]?.hash ?? null)),
      );
      report.check(
        'every honest node holds the same block at the equivocated height',
        after.every((h) => h !== null && h === after[0]),
        `${after.map(named).join(' / ')} at height ${eq.height}`,
      );
      const evidenceAfter = await evidenceSeen(net, cluster.nodes.slice(0, 3));
      report.log(
        'note',
        `duplicate-vote evidence seen by nodes 0,1,2: ${evidenceBefore.join('/')} before, ${evidenceAfter.join('/')} after (the Byzantine votes for A and B)`,
      );
    } finally {
      await eq.close();
      rmSync(copy, { recursive: true, force: true });
    }
  },
};
