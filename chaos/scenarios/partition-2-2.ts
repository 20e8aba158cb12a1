import { awaitProgress } from '../harness/invariants.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectStall } from '../harness/steps.ts';

/** Issue #14 scenario 1: split four validators 2|2; neither half has 2/3 of the power. */
export const scenario: Scenario = {
  name: 'partition-2-2',
  purpose:
    'partition four validators {0,1} | {2,3}: neither side commits, no fork; on heal the chain resumes within the bound',
  validators: 4,
  ci: true,
  defaultSeconds: 15,
  async run({ net, apis, report, seconds, recoveryBoundMs }) {
    net.partition([
      [0, 1],
      [2, 3],
    ]);
    report.log('fault', 'partition {0,1} | {2,3}');
    await expectStall(
      apis,
      [0, 1, 2, 3],
      { ms: seconds * 1000, slack: 1, name: 'no commits on either side' },
      report,
    );
    net.heal();
    report.log('heal', 'partition healed');
    await awaitProgress(apis, report, recoveryBoundMs, 'healing the 2|2 partition');
  },
};
