/**
 * `npm run chaos -- <scenario...> | all | --ci [--seconds N] [--seed N] [--keep]`
 *
 * Each scenario starts a real multi-process network in its own network
 * namespaces, runs a load generator, injects its faults, checks the
 * invariants during and after, and writes report.json and report.md under
 * chaos/results/<scenario>-<time>/. A failing run keeps the nodes' logs and
 * data there; a passing one keeps only the report unless --keep. Teardown
 * (processes, namespaces, bridge, nft table) always runs.
 */
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { NodeApi } from './harness/api.ts';
import { ChaosCluster } from './harness/cluster.ts';
import {
  awaitProgress,
  checkCommittedEverywhere,
  checkMemory,
  checkNoFork,
  sampleMemory,
} from './harness/invariants.ts';
import { LoadGenerator, sleep } from './harness/load.ts';
import { ChaosNetwork } from './harness/netns.ts';
import { ScenarioReport } from './harness/report.ts';
import { type Scenario, seededRandom } from './harness/scenario.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ci: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    seed: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'block-interval': { type: 'string', default: '1000' },
  },
});

const scenarioDir = new URL('./scenarios/', import.meta.url);
const all: Scenario[] = [];
for (const file of readdirSync(scenarioDir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  all.push(((await import(new URL(file, scenarioDir).href)) as { scenario: Scenario }).scenario);
}
const wanted = values.ci
  ? all.filter((s) => s.ci)
  : positionals.includes('all')
    ? all
    : all.filter((s) => positionals.includes(s.name));
if (wanted.length === 0) {
  console.error(
    `usage: npm run chaos -- <${all.map((s) => s.name).join('|')}>... | all | --ci  [--seconds N] [--seed N] [--keep]`,
  );
  process.exit(2);
}

// Whatever goes wrong in the harness itself, no node process, namespace or rule outlives it.
let current: { net: ChaosNetwork | null; cluster: ChaosCluster | null } = {
  net: null,
  cluster: null,
};
function emergencyTeardown(reason: string): never {
  console.error(`chaos harness aborting: ${reason}`);
  current.cluster?.killAllNow();
  current.net?.tearDown();
  process.exit(1);
}
process.on('uncaughtException', (error) => emergencyTeardown(error.stack ?? String(error)));
process.on('unhandledRejection', (error) =>
  emergencyTeardown(String((error as Error)?.stack ?? error)),
);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => emergencyTeardown(signal));

const results: Array<{ name: string; passed: boolean; dir: string; maxRecoveryMs: number | null }> =
  [];
for (const scenario of wanted) {
  const seed = values.seed === undefined ? Date.now() % 1_000_000 : Number(values.seed);
  const dir = join(
    'chaos',
    'results',
    `${scenario.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
  );
  mkdirSync(dir, { recursive: true });
  const report = new ScenarioReport(scenario.name, scenario.purpose);
  report.log('note', `seed ${seed} (replay with --seed ${seed})`);
  const passed = await runOne(scenario, dir, report, seed);
  report.write(dir);
  if (passed && !values.keep) {
    rmSync(join(dir, 'data'), { recursive: true, force: true });
    rmSync(join(dir, 'logs'), { recursive: true, force: true });
  }
  results.push({
    name: scenario.name,
    passed,
    dir,
    maxRecoveryMs: report.recoveriesMs.length === 0 ? null : Math.max(...report.recoveriesMs),
  });
}

console.log('\nchaos results');
for (const r of results) {
  const recovery =
    r.maxRecoveryMs === null ? '' : `, slowest recovery ${(r.maxRecoveryMs / 1000).toFixed(1)} s`;
  console.log(`  ${r.passed ? 'passed' : 'FAILED'}  ${r.name}${recovery}  (${r.dir})`);
}
const failed = results.filter((r) => !r.passed).length;
console.log(`${results.length - failed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);

async function runOne(
  scenario: Scenario,
  dir: string,
  report: ScenarioReport,
  seed: number,
): Promise<boolean> {
  let net: ChaosNetwork | null = null;
  let cluster: ChaosCluster | null = null;
  let load: LoadGenerator | null = null;
  let checker: NodeJS.Timeout | null = null;
  const loopDelay = monitorEventLoopDelay({ resolution: 50 });
  try {
    net = ChaosNetwork.create(scenario.validators + (scenario.fullNodes ?? 0));
    current = { net, cluster: null };
    report.log(
      'note',
      `network ${net.id}: bridge ${net.bridge}, ${net.nodes.map((n) => `${n.ns}=${n.address}`).join(', ')}`,
    );
    cluster = new ChaosCluster(net, dir, {
      blockIntervalMs: scenario.blockIntervalMs ?? Number(values['block-interval']),
      validators: scenario.validators,
    });
    current = { net, cluster };
    cluster.init();
    await scenario.prepare?.(cluster, report);
    const later = scenario.startLater ?? [];
    cluster.startAll(later);
    const apis = cluster.nodes.map((n) => new NodeApi(net!, n.rpcUrl, n.token));
    const first = apis.filter((_, i) => !later.includes(i));
    await waitUntil(
      async () => (await Promise.all(first.map((a) => a.tipHeight()))).every((h) => h >= 2),
      300_000,
      'nodes up and producing',
    );
    const info = (await (await fetch(`${cluster.nodes[0]!.rpcUrl}/api/v1/chain/info`)).json()) as {
      chainId: string;
      addressPrefix: string;
    };
    const live = () =>
      cluster!.nodes.filter((n) => n.process !== null && !n.paused).map((n) => apis[n.net.index]!);
    load = new LoadGenerator(live, { dir, lanes: 20 });
    await load.prepare(info.chainId, info.addressPrefix);
    load.start();
    // A few seconds of load before the first fault, so transactions are in flight when it hits.
    await sleep(5_000);
    report.log('note', `load started (${load.committed.size} committed before the first fault)`);
    const c = cluster;
    // One fork check at a time: on a loaded machine one can take longer than
    // the 2 s period, and overlapping ones pile up in this process, which also
    // runs the load and any bare Byzantine peer.
    let checking = false;
    checker = setInterval(() => {
      sampleMemory(c, report);
      if (checking) return;
      checking = true;
      checkNoFork(apis, report, false)
        .catch((error: unknown) =>
          report.log('note', `periodic fork check skipped: ${(error as Error).message}`),
        )
        .finally(() => {
          checking = false;
        });
    }, 2_000);
    loopDelay.enable();
    await scenario.run({
      net,
      cluster,
      load,
      report,
      apis,
      random: seededRandom(seed),
      seconds: values.seconds === undefined ? scenario.defaultSeconds : Number(values.seconds),
      recoveryBoundMs: 20_000,
    });
    clearInterval(checker);
    checker = null;
    loopDelay.disable();
    report.log(
      'note',
      `harness event-loop delay during the scenario: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(0)} ms, p99 ${(loopDelay.percentile(99) / 1e6).toFixed(0)} ms, max ${(loopDelay.max / 1e6).toFixed(0)} ms`,
    );
    await load.stop();
    report.log(
      'note',
      `load: ${load.submitted} submitted, ${load.committed.size} committed, ${load.rejected} refused or timed out`,
    );
    // Every node up, unpartitioned, and caught up before the final checks.
    net.heal();
    const started = cluster.nodes.filter((n) => n.process === null).map((n) => n.net.index);
    for (const i of started) cluster.start(i);
    for (const n of cluster.nodes) if (n.paused) cluster.resume(n.net.index);
    await awaitProgress(
      apis,
      report,
      20_000,
      'the end of the scenario (all nodes up and connected)',
      started,
    );
    await checkNoFork(apis, report, true);
    await checkCommittedEverywhere(apis, load.committed, report);
    checkMemory(report, { maxGrowth: 1.0, maxMb: 1_500 });
  } catch (error) {
    report.log('failure', `scenario aborted: ${(error as Error).stack ?? String(error)}`);
    report.check('scenario ran to the end', false, (error as Error).message);
  } finally {
    if (checker !== null) clearInterval(checker);
    await load?.stop().catch(() => undefined);
    await cluster?.stopAll();
    net?.tearDown();
    const left = net?.leftovers() ?? [];
    if (left.length > 0) report.check('teardown', false, `left behind: ${left.join('; ')}`);
    current = { net: null, cluster: null };
  }
  return report.passed;
}

async function waitUntil(
  test: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if (await test()) return;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what}: ${(error as Error).message}`);
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await sleep(500);
  }
}
