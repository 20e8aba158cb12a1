import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';

/** Issue #14 scenario 3: kill -9 a random node every few seconds, restart it, and require the chain back each time. */
export const scenario: Scenario = {
  name: 'rolling-kill',
  purpose:
    'kill -9 random nodes (validator included) every few seconds under load; each restart rejoins, no fork, nothing acknowledged is lost',
  nodes: 3,
  ci: true,
  defaultSeconds: 40,
  async run({ cluster, apis, report, random, seconds, recoveryBoundMs }) {
    const until = Date.now() + seconds * 1000;
    while (Date.now() < until) {
      const victim = Math.floor(random() * cluster.nodes.length);
      report.log('fault', `kill -9 node${victim}`);
      await cluster.kill(victim);
      await sleep(1_000 + Math.floor(random() * 2_000));
      cluster.start(victim);
      report.log('heal', `node${victim} restarted`);
      await awaitProgress(apis, report, recoveryBoundMs, `restart of node${victim}`);
      await sleep(Math.floor(random() * 2_000));
    }
  },
};
