/**
 * Four validator processes on this machine (`utxod testnet init`, BFT, block
 * interval 1 s) under a load of signed transactions submitted through the
 * API of every node: sustained committed transactions per second (goal
 * >= 2,000) and submit-to-final latency as a ratio to the block interval
 * (goal p99 <= 1.5). A transaction is final when a block that holds it is
 * seen on node 0 (polled every 50 ms, so latencies include up to that much).
 * Every transaction is built and signed before the clock starts.
 *
 * `UTXOD_BENCH_CPU_PROF=DIR` writes a V8 CPU profile of each node to
 * DIR/node<i>/ (the nodes are then stopped with SIGTERM so that Node writes
 * it); run the bench itself with `node --cpu-prof` to profile the generator.
 */
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { toHex } from '../../src/util/bytes.ts';
import { NodeProcess, runUtxod } from '../../test/support/node-process.ts';
import { type BenchResult, percentile, size } from '../lib.ts';

const SUITE = 'testnet';
const VALIDATORS = 4;
const BLOCK_INTERVAL_MS = 1000;
/** `UTXOD_BENCH_TESTNET_PAYMENTS` (100..8,000) sets a smaller load for A/B runs. */
const PAYMENTS = Math.min(
  8000,
  Math.max(100, Number(process.env['UTXOD_BENCH_TESTNET_PAYMENTS'] ?? size(8000, 200)) || 8000),
);
const OUTPUTS_PER_FAN = 400;
const CONCURRENCY = 32;
/** Linux's USER_HZ (`getconf CLK_TCK`), the unit of /proc/<pid>/stat times. */
const CLOCK_TICKS_PER_SECOND = 100;
/** The load is bounded in count (PAYMENTS) and in time. */
const LOAD_DEADLINE_MS = size(120_000, 20_000);

interface Layout {
  readonly nodes: readonly { readonly datadir: string; readonly rpcUrl: string }[];
}

export async function run(): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'utxod-bench-testnet-'));
  const out = join(root, 'net');
  const nodes: NodeProcess[] = [];
  // The load submits far faster than the default anonymous submit limit.
  process.env['UTXOD_RATE_LIMIT_SUBMIT'] = '1000000';
  try {
    const basePort = 40_000 + 100 * Math.floor(Math.random() * 200);
    const init = runUtxod([
      'testnet',
      'init',
      '--validators',
      String(VALIDATORS),
      '--out',
      out,
      '--base-port',
      String(basePort),
      '--block-interval',
      String(BLOCK_INTERVAL_MS),
    ]);
    if (init.status !== 0) throw new Error(`testnet init failed: ${init.stderr}`);
    const layout = JSON.parse(readFileSync(join(out, 'testnet.json'), 'utf8')) as Layout;
    const profDir = process.env['UTXOD_BENCH_CPU_PROF'];
    for (const [i, node] of layout.nodes.entries()) {
      const nodeArgs =
        profDir === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(profDir, `node${i}`)];
      nodes.push(NodeProcess.startConfigured(node.datadir, nodeArgs));
    }
    if (process.env['UTXOD_BENCH_KEEP'] === '1')
      for (const [i, n] of nodes.entries()) keepLog(n, join(layout.nodes[i]!.datadir, 'node.log'));
    const urls = layout.nodes.map((n) => n.rpcUrl);
    // A start compiles the sources once: on a shared, loaded machine that can take a minute or more.
    await Promise.all(nodes.map((n) => n.url(240_000)));
    await waitForHeight(urls[0]!, 2);

    const genesis = parseGenesis(
      readFileSync(join(layout.nodes[0]!.datadir, 'genesis.json'), 'utf8'),
    );
    const { fans, payments } = await buildLoad(genesis);
    for (const fan of fans) await submit(urls[0]!, fan);
    await waitForCommitted(urls[0]!, fans.at(-1)!);
    // Every node has the coins before the load starts.
    for (const url of urls) await waitForCommitted(url, fans.at(-1)!);

    const submittedAt = new Map<string, number>();
    const finalAt = new Map<string, number>();
    let watching = true;
    const watcher = watchBlocks(urls[0]!, finalAt, () => watching);
    const started = performance.now();
    const cpuAtStart = process.cpuUsage();
    const nodesCpuAtStart = nodes.map(processCpuSeconds);
    const deadline = started + LOAD_DEADLINE_MS;
    let next = 0;
    let rejected = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = next++; i < payments.length && performance.now() < deadline; i = next++) {
          const tx = payments[i]!;
          const txid = toHex(tx.txid);
          submittedAt.set(txid, performance.now());
          if (!(await submit(urls[(worker + i) % urls.length]!, tx, false))) rejected++;
        }
      }),
    );
    const submitSeconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuAtStart);
    const generatorCpu = (cpu.user + cpu.system) / 1e6;
    while (finalAt.size < submittedAt.size - rejected && performance.now() < deadline + 20_000)
      await sleep(100);
    watching = false;
    await watcher;
    const nodesCpu = nodes.reduce(
      (sum, n, i) => sum + processCpuSeconds(n) - nodesCpuAtStart[i]!,
      0,
    );

    const latencies: number[] = [];
    let lastFinal = started;
    for (const [txid, t0] of submittedAt) {
      const t1 = finalAt.get(txid);
      if (t1 === undefined) continue;
      latencies.push(t1 - t0);
      lastFinal = Math.max(lastFinal, t1);
    }
    latencies.sort((a, b) => a - b);
    const seconds = (lastFinal - started) / 1000;
    const tps = latencies.length / seconds;
    const p50 = percentile(latencies, 50);
    const p99 = percentile(latencies, 99);
    const note = `${latencies.length}/${submittedAt.size} final, ${rejected} refused`;
    // The generator must not be the bottleneck: its own CPU while it submits.
    console.error(
      `testnet: submitted ${submittedAt.size} in ${submitSeconds.toFixed(2)} s, generator CPU ${generatorCpu.toFixed(2)} s (${((100 * generatorCpu) / submitSeconds).toFixed(0)}% of a core)`,
    );
    // CPU per committed transaction hardly depends on how many other processes
    // share the cores (wall-clock tx/s does): 2 cores / this = the ceiling.
    const cpuPerTx = latencies.length === 0 ? Number.NaN : (1000 * nodesCpu) / latencies.length;
    return [
      {
        suite: SUITE,
        name: `${VALIDATORS} validators, CPU of all nodes per committed tx`,
        value: cpuPerTx,
        unit: 'ms',
      },
      {
        suite: SUITE,
        name: 'ceiling on 2 idle cores (2,000 ms / CPU per tx)',
        value: 2000 / cpuPerTx,
        unit: 'tx/s',
      },
      {
        suite: SUITE,
        name: `${VALIDATORS} validators, committed tx/s (${note})`,
        value: tps,
        unit: 'tx/s',
        goal: { value: 2000, better: 'higher' },
      },
      {
        suite: SUITE,
        name: 'submit -> final latency p50',
        value: p50,
        unit: 'ms',
        ratio: p50 / BLOCK_INTERVAL_MS,
        baselineName: 'block interval',
      },
      {
        suite: SUITE,
        name: 'submit -> final latency p99',
        value: p99,
        unit: 'ms',
        ratio: p99 / BLOCK_INTERVAL_MS,
        baselineName: 'block interval',
        goal: { value: 1.5, better: 'lower' },
      },
    ];
  } finally {
    delete process.env['UTXOD_RATE_LIMIT_SUBMIT'];
    const stopSignal = process.env['UTXOD_BENCH_CPU_PROF'] === undefined ? 'SIGKILL' : 'SIGTERM';
    for (const node of nodes) node.child.kill(stopSignal);
    await Promise.all(nodes.map((n) => n.exited));
    // UTXOD_BENCH_KEEP=1 keeps the nodes' data directories and logs to look at afterwards.
    if (process.env['UTXOD_BENCH_KEEP'] === '1') console.error(`testnet kept in ${root}`);
    else rmSync(root, { recursive: true, force: true });
  }
}

/** Fan-out transactions (a chain of them, each paying OUTPUTS_PER_FAN coins), then one payment per coin. */
async function buildLoad(genesis: ReturnType<typeof parseGenesis>): Promise<{
  fans: Transaction[];
  payments: Transaction[];
}> {
  const seed = mnemonicToSeed(DEVNET_MNEMONIC);
  const alice = deriveKey(seed, accountPath(1, 0, 0));
  const bob = deriveKey(seed, accountPath(1, 0, 9));
  const aliceLock = pubkeyLock(alice.publicKey);
  const genesisTx = (await buildGenesisBlock(genesis)).block.txs[0]!;
  let funding: SpendableCoin = {
    outpoint: { txid: genesisTx.txid, index: 0 },
    amount: genesisTx.outputs[0]!.amount,
    lock: genesisTx.outputs[0]!.lock,
  };
  const fans: Transaction[] = [];
  const coins: SpendableCoin[] = [];
  while (coins.length < PAYMENTS) {
    const count = Math.min(OUTPUTS_PER_FAN, PAYMENTS - coins.length);
    const fan = buildTransaction({
      chainId: genesis.chainId,
      coins: [funding],
      outputs: Array.from({ length: count }, () => ({ amount: COIN, lock: aliceLock })),
      changeLock: aliceLock,
      feeRate: 2000n,
      keys: [alice],
    });
    fans.push(fan);
    fan.outputs.forEach((o, index) => {
      const coin = { outpoint: { txid: fan.txid, index }, amount: o.amount, lock: o.lock };
      if (index < count) coins.push(coin);
      else funding = coin; // the change funds the next fan-out
    });
  }
  const payments = coins.map((coin) =>
    buildTransaction({
      chainId: genesis.chainId,
      coins: [coin],
      outputs: [{ amount: COIN / 2n, lock: pubkeyLock(bob.publicKey) }],
      changeLock: aliceLock,
      feeRate: 2000n,
      keys: [alice],
    }),
  );
  return { fans, payments };
}

/** Records, for each transaction, when a block holding it was first seen on `url`. */
async function watchBlocks(
  url: string,
  finalAt: Map<string, number>,
  active: () => boolean,
): Promise<void> {
  let height = (await getJson<{ height: number }>(`${url}/api/v1/chain/tip`)).height;
  while (active()) {
    const tip = (await getJson<{ height: number }>(`${url}/api/v1/chain/tip`)).height;
    for (; height < tip; height++) {
      const seen = performance.now();
      const block = await getJson<{ txids: string[] }>(`${url}/api/v1/blocks/height/${height + 1}`);
      for (const txid of block.txids) if (!finalAt.has(txid)) finalAt.set(txid, seen);
    }
    await sleep(50);
  }
}

/** User + system CPU of a node process (all its threads) from /proc, in seconds. */
function processCpuSeconds(node: NodeProcess): number {
  const stat = readFileSync(`/proc/${node.child.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces), 1-based: utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

function keepLog(node: NodeProcess, path: string): void {
  const file = createWriteStream(path);
  node.child.stdout?.pipe(file);
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
  return (await response.json()) as T;
}

async function submit(url: string, tx: Transaction, mustAccept = true): Promise<boolean> {
  const response = await fetch(`${url}/api/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hex: toHex(tx.encode()) }),
  });
  await response.arrayBuffer();
  if (response.status === 202) return true;
  if (mustAccept) throw new Error(`submit failed: ${response.status}`);
  return false;
}

async function waitForHeight(url: string, height: number): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    const tip = await getJson<{ height: number }>(`${url}/api/v1/chain/tip`).catch(() => null);
    if (tip !== null && tip.height >= height) return;
    await sleep(100);
  }
  throw new Error(`testnet did not reach height ${height}`);
}

async function waitForCommitted(url: string, tx: Transaction): Promise<void> {
  for (let i = 0; i < 2400; i++) {
    const response = await fetch(`${url}/api/v1/txs/${toHex(tx.txid)}`);
    const body = (await response.json()) as { status?: string };
    if (body.status === 'committed') return;
    await sleep(100);
  }
  throw new Error('a fan-out transaction never committed');
}
