/** The invariants every scenario checks, during the run and at its end. */
import type { NodeApi } from './api.ts';
import type { ChaosCluster } from './cluster.ts';
import { sleep } from './load.ts';
import type { ScenarioReport } from './report.ts';

/**
 * No two nodes hold different blocks (or UTXO roots) at any height they both
 * have, now or compared with what any node answered at an earlier check.
 */
export async function checkNoFork(
  apis: readonly NodeApi[],
  report: ScenarioReport,
  final: boolean,
): Promise<boolean> {
  const tips = await Promise.all(apis.map((api) => api.tipHeight().catch(() => -1)));
  const live = apis.filter((_, i) => tips[i]! >= 0);
  const common = Math.min(...tips.filter((t) => t >= 0));
  if (live.length < 2 || common < 1) {
    if (final) report.check('no fork', false, `only ${live.length} nodes answered`);
    return !final;
  }
  let chains: Awaited<ReturnType<NodeApi['headers']>>[];
  // A node that began from a snapshot has nothing below its snapshot height: compare from there.
  let from = 1;
  try {
    from = Math.max(1, ...(await Promise.all(live.map((api) => api.earliestHeight()))));
    chains = await Promise.all(live.map((api) => api.headers(from, common - from + 1)));
  } catch (error) {
    // A node went down between the two requests: judge at the next check (the final one needs all).
    if (final)
      report.check(
        'no fork',
        false,
        `could not read every node's headers: ${(error as Error).message}`,
      );
    return !final;
  }
  for (const [n, chain] of chains.entries()) {
    for (const header of chain) {
      const seen = report.seenHashes.get(header.height);
      if (seen === undefined) report.seenHashes.set(header.height, header.hash);
      else if (seen !== header.hash) {
        report.check(
          'no fork',
          false,
          `a node (${live[n]!.baseUrl}) holds ${header.hash.slice(0, 16)} at height ${header.height}, another held ${seen.slice(0, 16)} earlier`,
        );
        return false;
      }
    }
  }
  for (let h = 0; h <= common - from; h++) {
    const first = chains[0]![h];
    for (const chain of chains.slice(1)) {
      const other = chain[h];
      if (
        first === undefined ||
        other === undefined ||
        first.hash !== other.hash ||
        first.utxoRoot !== other.utxoRoot
      ) {
        report.check('no fork', false, `nodes disagree at height ${h + from}`);
        return false;
      }
    }
  }
  if (final)
    report.check('no fork', true, `${live.length} nodes agree on heights ${from}..${common}`);
  return true;
}

/** How long a started node may take to answer its API (reported, not part of recovery). */
export const STARTUP_BOUND_MS = 90_000;

/**
 * Waits until every node's tip passes the highest tip seen now, and returns
 * how long that took: the recovery time after a fault ends.
 */
export async function awaitProgress(
  apis: readonly NodeApi[],
  report: ScenarioReport,
  boundMs: number,
  what: string,
  /**
   * Nodes whose process was just started: the clock starts once each answers
   * its API. A Node.js process on this shared 2-core machine can take longer
   * than 20 s just to open its database and libp2p; that time is reported and
   * bounded separately (STARTUP_BOUND_MS) rather than counted as recovery.
   */
  restarted: readonly number[] = [],
): Promise<number> {
  if (restarted.length > 0) {
    const t0 = Date.now();
    let up = false;
    while (!up && Date.now() - t0 < STARTUP_BOUND_MS) {
      const tips = await Promise.all(restarted.map((i) => apis[i]!.tipHeight().catch(() => -1)));
      up = tips.every((t) => t >= 0);
      if (!up) await sleep(250);
    }
    const ms = Date.now() - t0;
    report.startupsMs.push(ms);
    report.check(
      `startup for ${what}`,
      up,
      up
        ? `node${restarted.join(',node')} answered its API ${(ms / 1000).toFixed(1)} s after start`
        : `node${restarted.join(',node')} did not answer within ${STARTUP_BOUND_MS / 1000} s of start`,
    );
    if (!up) return Number.POSITIVE_INFINITY;
  }
  const started = Date.now();
  const tips = await Promise.all(apis.map((api) => api.tipHeight().catch(() => -1)));
  const target = Math.max(...tips) + 1;
  while (Date.now() - started < boundMs * 3) {
    const now = await Promise.all(apis.map((api) => api.tipHeight().catch(() => -1)));
    if (now.every((t) => t >= target)) {
      const ms = Date.now() - started;
      report.recoveriesMs.push(ms);
      report.check(
        `progress after ${what}`,
        ms <= boundMs,
        `every node passed height ${target - 1} after ${(ms / 1000).toFixed(1)} s (bound ${boundMs / 1000} s)`,
      );
      return ms;
    }
    await sleep(250);
  }
  report.check(
    `progress after ${what}`,
    false,
    `not every node passed height ${target - 1} within ${(boundMs * 3) / 1000} s`,
  );
  return Number.POSITIVE_INFINITY;
}

/** Every transaction seen committed is committed on every node. */
export async function checkCommittedEverywhere(
  apis: readonly NodeApi[],
  txids: ReadonlySet<string>,
  report: ScenarioReport,
): Promise<void> {
  const missing: string[] = [];
  let belowSnapshot = 0;
  // A request that times out on a loaded machine is asked again; only an answer counts.
  const lookup = async (
    api: NodeApi,
    txid: string,
  ): Promise<{ status: string; height?: number }> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await api.tx(txid);
      } catch (error) {
        if (attempt >= 4) return { status: `error (${(error as Error).message.slice(0, 60)})` };
        await sleep(1_000);
      }
    }
  };
  // A node that began from a snapshot holds no transaction below its snapshot height.
  const earliest = await Promise.all(apis.map((api) => api.earliestHeight().catch(() => 0)));
  const list = [...txids];
  for (let i = 0; i < list.length; i += 8) {
    await Promise.all(
      list.slice(i, i + 8).map(async (txid) => {
        const found = await Promise.all(apis.map((api) => lookup(api, txid)));
        const height = found.find((f) => f.height !== undefined)?.height;
        const ok = found.map(
          (f, n) =>
            f.status === 'committed' ||
            (height !== undefined && height <= earliest[n]! && f.status === 'unknown'),
        );
        if (found.some((f, n) => f.status !== 'committed' && ok[n])) belowSnapshot++;
        if (ok.some((o) => !o))
          missing.push(`${txid.slice(0, 12)}: ${found.map((f) => f.status).join('/')}`);
      }),
    );
  }
  report.check(
    'acknowledged transactions on every node',
    missing.length === 0 && txids.size > 0,
    missing.length === 0
      ? `${txids.size} committed transactions found on all ${apis.length} nodes${belowSnapshot === 0 ? '' : ` (${belowSnapshot} of them below a state-synced node's snapshot height, where it holds no history)`}`
      : `missing: ${missing.slice(0, 5).join(', ')}`,
  );
}

export function sampleMemory(cluster: ChaosCluster, report: ScenarioReport): void {
  const rssMb = cluster.nodes.map((n) => Math.round((cluster.rssBytes(n.net.index) ?? 0) / 1e6));
  report.memory.push({ atMs: report.elapsedMs, rssMb, starts: cluster.nodes.map((n) => n.starts) });
}

/**
 * No node's resident memory grew by more than `maxGrowth` between the middle
 * and last third of its longest-lived process (a restart starts from scratch,
 * so samples of different processes are not compared), nor passed `maxMb`.
 */
export function checkMemory(
  report: ScenarioReport,
  opts: { maxGrowth: number; maxMb: number },
): void {
  const problems: string[] = [];
  const judged: string[] = [];
  const nodes = report.memory[0]?.rssMb.length ?? 0;
  for (let i = 0; i < nodes; i++) {
    const lifetimes = new Map<number, number[]>();
    for (const sample of report.memory) {
      const rss = sample.rssMb[i] ?? 0;
      if (rss === 0) continue;
      const start = sample.starts[i] ?? 0;
      lifetimes.set(start, [...(lifetimes.get(start) ?? []), rss]);
    }
    const all = [...lifetimes.values()].flat();
    const peak = all.length === 0 ? 0 : Math.max(...all);
    if (peak > opts.maxMb) problems.push(`node${i} peaked at ${peak} MB`);
    const longest = [...lifetimes.values()].sort((a, b) => b.length - a.length)[0] ?? [];
    if (longest.length < 9) continue;
    const third = Math.floor(longest.length / 3);
    const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    // The first third is start-up (caches and the JIT warming): compare the middle third with the last.
    const early = avg(longest.slice(third, 2 * third));
    const late = avg(longest.slice(-third));
    judged.push(`node${i} ${early.toFixed(0)} -> ${late.toFixed(0)} MB`);
    if (late > early * (1 + opts.maxGrowth))
      problems.push(`node${i} grew ${early.toFixed(0)} -> ${late.toFixed(0)} MB`);
  }
  report.check(
    'memory bounded',
    problems.length === 0,
    problems.length > 0
      ? problems.join('; ')
      : judged.length > 0
        ? `${judged.join(', ')} (bound +${opts.maxGrowth * 100}%, ${opts.maxMb} MB)`
        : `no process lived long enough to judge growth; peaks under ${opts.maxMb} MB`,
  );
}
