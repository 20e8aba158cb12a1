import { awaitProgress } from '../harness/invariants.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, expectStall } from '../harness/steps.ts';

/** Issue #14 scenario 2: cut one of four validators off; the other three hold 3/4 of the power. */
export const scenario: Scenario = {
  name: 'partition-3-1',
  purpose:
    'partition four validators {0,1,2} | {3}: the majority goes on, the minority stalls without forking and catches up on heal',
  validators: 4,
  ci: true,
  defaultSeconds: 15,
  async run({ net, apis, report, seconds, recoveryBoundMs }) {
    net.partition([[0, 1, 2], [3]]);
    report.log('fault', 'partition {0,1,2} | {3}');
    const stall = expectStall(
      apis,
      [3],
      { ms: seconds * 1000, slack: 1, name: 'minority stalls' },
      report,
    );
    await expectProgress(
      apis,
      [0, 1, 2],
      { blocks: 3, boundMs: Math.max(seconds * 1000, recoveryBoundMs), name: 'majority goes on' },
      report,
    );
    await stall;
    net.heal();
    report.log('heal', 'partition healed');
    await awaitProgress(apis, report, recoveryBoundMs, 'healing the 3|1 partition');
  },
};
