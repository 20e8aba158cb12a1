import { sampleMemory } from '../harness/invariants.ts';
import { sleep } from '../harness/load.ts';
import type { Scenario } from '../harness/scenario.ts';

/** Issue #14 scenario 13: steady load for a configurable time; memory and progress are sampled throughout. */
export const scenario: Scenario = {
  name: 'soak',
  purpose:
    'the network under steady load for --seconds (minutes in CI, hours by hand); memory must not grow beyond the bound',
  validators: 4,
  ci: false,
  defaultSeconds: 120,
  async run({ cluster, load, report, seconds }) {
    const until = Date.now() + seconds * 1000;
    let lastCommitted = 0;
    while (Date.now() < until) {
      await sleep(10_000);
      sampleMemory(cluster, report);
      const committed = load.committed.size;
      report.log(
        'note',
        `${committed - lastCommitted} transactions committed in the last 10 s; rss ${report.memory.at(-1)?.rssMb.join('/')} MB`,
      );
      lastCommitted = committed;
    }
  },
};
