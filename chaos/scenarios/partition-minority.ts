import { awaitProgress } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';

/**
 * Issue #14 scenario 2, on today's one-validator network: the side with the
 * validator goes on, the cut-off full node stops at its height, and catches
 * up within the bound once the partition heals.
 */
export const scenario: Scenario = {
  name: 'partition-minority',
  purpose:
    'partition {validator, node1} | {node2}: the majority goes on, the minority stalls without forking and catches up on heal',
  nodes: 3,
  ci: true,
  defaultSeconds: 15,
  async run({ net, apis, report, seconds, recoveryBoundMs }) {
    net.partition([[0, 1], [2]]);
    report.log('fault', 'partition {0,1} | {2}');
    const before = await apis[2]!.tipHeight();
    await sleep(seconds * 1000);
    const [majority, minority] = await Promise.all([apis[0]!.tipHeight(), apis[2]!.tipHeight()]);
    report.check(
      'majority goes on',
      majority > before + 2,
      `validator at ${majority}, minority was at ${before}`,
    );
    report.check(
      'minority stalls',
      minority <= before + 1,
      `minority at ${minority} after ${seconds} s cut off`,
    );
    net.heal();
    report.log('heal', 'partition healed');
    await awaitProgress(apis, report, recoveryBoundMs, 'healing the partition');
  },
};
