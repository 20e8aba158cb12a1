import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';

/** Issue #14 scenario 4: SIGSTOP the validator past several block intervals, SIGCONT it, and require the chain back. */
export const scenario: Scenario = {
  name: 'pause-validator',
  purpose:
    'pause the validator (SIGSTOP) for several intervals under load, resume it: the chain resumes within the bound, no fork',
  nodes: 3,
  ci: false,
  defaultSeconds: 10,
  async run({ cluster, apis, report, seconds, recoveryBoundMs }) {
    const before = await apis[1]!.tipHeight();
    cluster.pause(0);
    report.log('fault', 'SIGSTOP node0 (the validator)');
    await sleep(seconds * 1000);
    const during = await apis[1]!.tipHeight();
    report.check(
      'no blocks while the only validator is paused',
      during <= before + 1,
      `full node went ${before} -> ${during}`,
    );
    cluster.resume(0);
    report.log('heal', 'SIGCONT node0');
    await awaitProgress(apis, report, recoveryBoundMs, 'resuming the validator');
  },
};
