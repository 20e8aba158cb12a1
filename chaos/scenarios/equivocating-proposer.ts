import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Equivocator } from '../harness/equivocator.ts';
import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import { evidenceSeen, utxodCli } from '../harness/operator.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, tipsOf } from '../harness/steps.ts';

/** Issue #14 scenario 6: an equivocating proposer plus a partition (CometBFT's conflicting-proposals test). */
export const scenario: Scenario = {
  name: 'equivocating-proposer',
  purpose:
    'validator 3 (a key the harness holds, no node) proposes block A with its votes to {0,1} and block B to {2} for the same height and round while the network is split {0,1} | {2}: at most one of them commits, no fork, and after the heal the chain goes on within the bound',
  validators: 4,
  ci: false,
  defaultSeconds: 0,
  // The harness's chain copy connects every block with all its checks, on the
  // same loaded cores as the nodes: at 1 s blocks it fell behind (0.3 blocks/s
  // at load 11) and equivocated 130 blocks below the tip.
  blockIntervalMs: 3_000,
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
    // The equivocator is made ready while the chain runs: a copy of node 0's
    // chain (backup + restore) that then follows the network block by block,
    // and one bare peer per side, connected before the split.
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
      await eq.connect([
        { name: 'A', addresses: [cluster.p2pAddress(0), cluster.p2pAddress(1)] },
        { name: 'B', addresses: [cluster.p2pAddress(2)] },
      ]);
      report.log(
        'note',
        `Byzantine validator index ${eq.index}: chain copy at ${eq.height - 1}, side A's peer connected to ${eq.connections('A').length} of nodes 0,1, side B's to node 2`,
      );
      const evidenceBefore = await evidenceSeen(net, cluster.nodes.slice(0, 3));

      // Its turn: every honest node in round 0 of the next height, waiting
      // for validator 3's proposal (the propose timeout, 3 s, since its node
      // is down). The split starts right then, so each side gets its own block
      // before any honest node has voted in that round.
      const rounds = new Set<number>();
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && rounds.size === 0) {
        const views = await Promise.all(honest.map((i) => apis[i]!.consensus().catch(() => null)));
        const h = views[0]?.height ?? -1;
        const turn = views.every(
          (c) =>
            c !== null &&
            c.height === h &&
            c.round === 0 &&
            c.proposer.publicKey === eq.publicKeyHex,
        );
        // Only a turn the copy is ready for: catching up then would let the propose timeout pass.
        if (turn && eq.height === h) {
          net.partition([
            [0, 1],
            [2, byz],
          ]);
          // Read before anything is sent: side {0,1} may commit block A within a second of it.
          const tipsAtSplit = await tipsOf(apis, honest);
          const splitAt = Date.now();
          const a = await eq.equivocate('A', 0, 0);
          const b = await eq.equivocate('B', 1, 0);
          rounds.add(0);
          report.check(
            'the equivocation hit the tip',
            tipsAtSplit.every((t) => t === h - 1),
            `honest tips ${tipsAtSplit.join('/')} when node${byz}'s blocks for height ${h} went out`,
          );
          report.log(
            'fault',
            `partition {0,1} | {2} as every honest node waited for node${byz}'s proposal at height ${h} round 0; within ${Date.now() - splitAt} ms node${byz} (Byzantine) sent block ${a.blockHash.slice(0, 16)} with its prevote and precommit to {0,1}, block ${b.blockHash.slice(0, 16)} to {2}`,
          );
          break;
        }
        // Keep the copy one block behind at most, so the turn needs no catch-up.
        if (turn && eq.height < h)
          report.log('note', `turn at height ${h} missed: the chain copy was at ${eq.height - 1}`);
        const tip = Math.min(
          ...views.map((c) => (c === null ? Number.POSITIVE_INFINITY : c.height - 1)),
        );
        if (Number.isFinite(tip) && eq.height - 1 < tip) await eq.follow('A', tip);
        await sleep(100);
      }
      report.check(
        'the Byzantine validator equivocated',
        rounds.size > 0 && eq.blockHash('A') !== eq.blockHash('B'),
        rounds.size === 0
          ? 'its turn (height h round 0 on every honest node) was not seen within 120 s'
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
