import { awaitProgress } from '../harness/invariants.ts';
import type { Scenario } from '../harness/scenario.ts';
import { expectProgress, others, tipsOf } from '../harness/steps.ts';

/** Issue #14 scenario 7: one of four validators runs with its wall clock ahead, then behind (the test-only clockOffsetMs). */
export const scenario: Scenario = {
  name: 'clock-skew',
  purpose:
    'one of four validators with its clock 30 s ahead, then 30 s behind (beyond the 15 s future-time rule): the chain goes on, the skewed node follows, no fork',
  validators: 4,
  ci: false,
  defaultSeconds: 15,
  async run({ cluster, apis, report, seconds, recoveryBoundMs }) {
    const skewed = 3;
    const key = cluster.node(skewed).validatorKey;
    for (const offsetMs of [30_000, -30_000]) {
      await cluster.stop(skewed);
      cluster.node(skewed).env = { UTXOD_CLOCK_OFFSET_MS: String(offsetMs) };
      cluster.start(skewed);
      report.log('fault', `node${skewed} restarted with its clock ${offsetMs / 1000} s off`);
      await awaitProgress(
        apis,
        report,
        recoveryBoundMs,
        `start of node${skewed} with a skewed clock`,
        [skewed],
      );
      const [from] = await tipsOf(apis, [0]);
      await expectProgress(
        apis,
        others(cluster.nodes.length, []),
        {
          blocks: 3,
          boundMs: Math.max(seconds * 1000, recoveryBoundMs),
          name: `chain goes on, node${skewed} ${offsetMs > 0 ? 'ahead' : 'behind'} follows`,
        },
        report,
      );
      const [to] = await tipsOf(apis, [0]);
      const window = await apis[0]!.headers(from! + 1, to! - from!);
      const proposed = window.filter((h) => h.proposer === key).length;
      report.log(
        'note',
        `heights ${from! + 1}..${to}: node${skewed} proposed ${proposed} of ${window.length} committed blocks while ${offsetMs / 1000} s off`,
      );
    }
    await cluster.stop(skewed);
    cluster.node(skewed).env = {};
    cluster.start(skewed);
    report.log('heal', `node${skewed} restarted with the real clock`);
    await awaitProgress(apis, report, recoveryBoundMs, `clock of node${skewed} restored`, [skewed]);
  },
};
