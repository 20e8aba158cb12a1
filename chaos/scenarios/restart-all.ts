import { awaitProgress } from '../harness/invariants.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

/** Issue #14 scenario 11 (the restart half): every node stopped and started one by one, as in a rolling upgrade. */
export const scenario: Scenario = {
  name: 'restart-all',
  purpose:
    'graceful restart (SIGTERM, start) of every node one by one, as in a rolling upgrade: the chain never halts, each node rejoins within the bound',
  validators: 4,
  fullNodes: 1,
  ci: false,
  defaultSeconds: 0,
  async run({ cluster, apis, report, recoveryBoundMs }) {
    for (const node of cluster.nodes) {
      const i = node.net.index;
      await cluster.stop(i);
      report.log(
        'fault',
        `node${i} stopped (SIGTERM), exit ${node.lastExit?.code ?? node.lastExit?.signal}`,
      );
      report.check(
        `node${i} stops cleanly`,
        node.lastExit?.code === 0,
        `exit code ${node.lastExit?.code}, signal ${node.lastExit?.signal}`,
      );
      await expectProgress(
        apis,
        others(cluster.nodes.length, [i]),
        { blocks: 2, boundMs: recoveryBoundMs, name: `chain goes on while node${i} is down` },
        report,
      );
      cluster.start(i);
      report.log('heal', `node${i} started`);
      await awaitProgress(apis, report, recoveryBoundMs, `restart of node${i}`, [i]);
    }
  },
};
