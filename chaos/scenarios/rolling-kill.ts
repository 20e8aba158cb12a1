import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

/** Issue #14 scenario 3: kill -9 a random validator every few seconds; the other three keep committing. */
export const scenario: Scenario = {
  name: 'rolling-kill',
  purpose:
    'kill -9 a random one of four validators every few seconds under load: the others commit while it is down, each restart rejoins, no fork, nothing acknowledged is lost',
  validators: 4,
  ci: true,
  defaultSeconds: 40,
  async run({ cluster, apis, report, random, seconds, recoveryBoundMs }) {
    const until = Date.now() + seconds * 1000;
    // At least two kills however short --seconds is: one restart alone is not "rolling".
    for (let kills = 0; kills < 2 || Date.now() < until; kills++) {
      const victim = Math.floor(random() * cluster.validatorCount);
      report.log('fault', `kill -9 node${victim}`);
      await cluster.kill(victim);
      await expectProgress(
        apis,
        others(cluster.nodes.length, [victim]),
        { blocks: 1, boundMs: recoveryBoundMs, name: `chain goes on without node${victim}` },
        report,
      );
      await sleep(Math.floor(random() * 2_000));
      cluster.start(victim);
      report.log('heal', `node${victim} restarted`);
      await awaitProgress(apis, report, recoveryBoundMs, `restart of node${victim}`, [victim]);
      await sleep(Math.floor(random() * 2_000));
    }
  },
};
