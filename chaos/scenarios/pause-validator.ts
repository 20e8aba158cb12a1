import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others } from '../harness/steps.ts';

/** Issue #14 scenario 4: SIGSTOP one of four validators past several rounds, SIGCONT it. */
export const scenario: Scenario = {
  name: 'pause-validator',
  purpose:
    'pause one of four validators (SIGSTOP) past several rounds under load: the others go on; resumed, it catches up within the bound, no fork',
  validators: 4,
  ci: false,
  defaultSeconds: 15,
  async run({ cluster, apis, report, random, seconds, recoveryBoundMs }) {
    const victim = Math.floor(random() * cluster.validatorCount);
    cluster.pause(victim);
    report.log('fault', `SIGSTOP node${victim}`);
    const started = Date.now();
    await expectProgress(
      apis,
      others(cluster.nodes.length, [victim]),
      { blocks: 3, boundMs: Math.max(seconds * 1000, recoveryBoundMs), name: 'the others go on' },
      report,
    );
    const left = seconds * 1000 - (Date.now() - started);
    if (left > 0) await sleep(left);
    cluster.resume(victim);
    report.log('heal', `SIGCONT node${victim}`);
    await awaitProgress(apis, report, recoveryBoundMs, `resuming node${victim}`);
  },
};
