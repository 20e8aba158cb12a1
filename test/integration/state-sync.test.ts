/**
 * State sync between real node processes on loopback: a producer and two
 * followers write snapshots every 10 blocks while the producer keeps making
 * blocks; one follower's snapshot chunks are corrupted on disk (it serves
 * wrong bytes). A new node started with `--state-sync` on an empty data
 * directory takes the newest snapshot all three offer, bans the corrupt
 * peer, verifies the rest, opens the chain at the snapshot's height with no
 * history below, and then block-syncs and follows the chain. A fresh node
 * syncing from genesis then never asks that node for blocks below its
 * snapshot height (its status says where its history starts). Watched over
 * its API while it syncs, a node is alive and not ready, its status shows
 * the sync advance, and chain routes refuse with STATE_SYNC_IN_PROGRESS;
 * once it follows the chain it is ready and still reports the sync.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openChainOffline } from '../../src/cli/offline.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { dataPaths, loadValidatorKey } from '../../src/node/datadir.ts';
import { connectSoloBlock } from '../support/chain-fixture.ts';
import {
  getJson,
  initNodeDir,
  type LogLine,
  NodeProcess,
  runUtxod,
  runUtxodAsync,
} from '../support/node-process.ts';

const SEEDED = 40;
const root = mkdtempSync(join(tmpdir(), 'utxod-statesync-'));
const started: NodeProcess[] = [];

function init(name: string, genesisFile?: string): string {
  const dir = initNodeDir(join(root, name), genesisFile);
  const configFile = join(dir, 'utxod.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  // A snapshot every 3 s (10 blocks of 300 ms): kept for a minute, so a joiner on a
  // loaded machine finishes fetching one before its peers prune it.
  writeFileSync(
    configFile,
    JSON.stringify({ ...config, snapshotInterval: 10, snapshotKeep: 20, snapshotChunkBytes: 1024 }),
  );
  return dir;
}

function start(dir: string, args: string[] = []): NodeProcess {
  const node = NodeProcess.start(dir, ['--p2p-host', '127.0.0.1', ...args]);
  started.push(node);
  return node;
}

async function seed(dir: string, blocks: number): Promise<void> {
  const key = loadValidatorKey(dataPaths(dir))!;
  const offline = await openChainOffline(dir, silentLogger());
  try {
    for (let i = 0; i < blocks; i++) await connectSoloBlock(offline.chain, key);
  } finally {
    await offline.close();
  }
}

const snapshotHeights = (node: NodeProcess) =>
  new Set(node.logs.filter((l) => l.msg === 'snapshot written').map((l) => Number(l['height'])));

interface StateSyncView {
  phase: 'discovering' | 'fetching' | 'done';
  height: number | null;
  chunksDone: number;
  chunksTotal: number;
  bytesDone: number;
  peers: number;
  earliestHeight: number | null;
}

/** What one poll of a node's API saw; an API that is down between the two starts leaves fields unset. */
interface Sample {
  live?: number;
  ready?: number;
  readyChain?: boolean;
  status?: { syncing: boolean; earliestHeight: number; stateSync: StateSyncView | null };
  /** 'ok', or the error code the chain tip route answered with. */
  tip?: string;
}

async function readerToken(dir: string): Promise<string> {
  const issued = await runUtxodAsync([
    'token',
    'issue',
    '--role',
    'reader',
    '--datadir',
    dir,
    '--json',
  ]);
  assert.equal(issued.status, 0, issued.stderr);
  return (JSON.parse(issued.stdout) as { token: string }).token;
}

async function sample(url: string, token: string): Promise<Sample> {
  const out: Sample = {};
  try {
    out.live = (await fetch(`${url}/health/live`)).status;
    const ready = await getJson<{ components: { chain: { ok: boolean } } }>(`${url}/health/ready`);
    out.ready = ready.status;
    out.readyChain = ready.body.components.chain.ok;
    const status = await getJson<NonNullable<Sample['status']>>(`${url}/api/v1/node/status`, token);
    // A server closing at the end of the state-sync pass answers 503 to everything.
    if (status.status !== 200) return out;
    out.status = status.body;
    const tip = await getJson<{ error?: { code: string } }>(`${url}/api/v1/chain/tip`);
    out.tip = tip.status === 200 ? 'ok' : (tip.body.error?.code ?? String(tip.status));
  } catch (error) {
    // Between the state-sync pass and the normal start nothing listens for a moment.
    if (!(error instanceof TypeError)) throw error;
  }
  return out;
}

async function chunksTotalGauge(metricsUrl: string): Promise<number | undefined> {
  let text: string;
  try {
    text = await (await fetch(`${metricsUrl}/metrics`)).text();
  } catch (error) {
    // Closed for a moment between the state-sync pass and the normal start.
    if (error instanceof TypeError) return undefined;
    throw error;
  }
  const line = text.split('\n').find((l) => l.startsWith('utxod_state_sync_chunks_total '));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Flips the last byte of every chunk file under `dir` not flipped yet. */
function flipNewChunks(dir: string, flipped: Set<string>): void {
  if (!existsSync(dir)) return;
  for (const snap of readdirSync(dir).filter((n) => /^\d+$/.test(n))) {
    for (const name of readdirSync(join(dir, snap)).filter((n) => n.startsWith('chunk-'))) {
      const file = join(dir, snap, name);
      if (flipped.has(file)) continue;
      const bytes = readFileSync(file);
      bytes[bytes.length - 1]! ^= 1;
      writeFileSync(file, bytes);
      flipped.add(file);
    }
  }
}

describe('state sync from three peer processes', { timeout: 600_000 }, () => {
  after(async () => {
    clearInterval(corrupting);
    await Promise.all(started.map((n) => n.stop('SIGKILL')));
    rmSync(root, { recursive: true, force: true });
  });

  let corrupting: NodeJS.Timeout | undefined;
  let producer: NodeProcess;
  let peers: NodeProcess[] = [];
  let addrs: string[] = [];
  let badDir = '';

  before(async () => {
    const p = init('producer');
    await seed(p, SEEDED);
    producer = start(p, ['--block-interval', '300']);
    const producerAddr = await producer.listenAddr(60_000);
    const genesis = join(p, 'genesis.json');
    const f1 = start(init('follower-1', genesis), ['--bootstrap', producerAddr]);
    badDir = init('follower-2', genesis);
    const f2 = start(badDir, ['--bootstrap', producerAddr]);
    peers = [producer, f1, f2];
    addrs = [producerAddr, await f1.listenAddr(60_000), await f2.listenAddr(60_000)];
    // The second follower serves wrong bytes: every chunk file it writes is flipped on disk.
    const flipped = new Set<string>();
    corrupting = setInterval(() => {
      try {
        flipNewChunks(join(badDir, 'snapshots'), flipped);
      } catch (error) {
        // The node prunes old snapshots while we scan: a vanished directory is expected.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }, 20);
    // All three hold a snapshot of the same height, written while blocks keep coming.
    await until(
      () => {
        const [a, b, c] = peers.map(snapshotHeights);
        return [...a!].some((h) => h > SEEDED && b!.has(h) && c!.has(h));
      },
      120_000,
      'a common snapshot height above the seeded chain',
    );
  });

  it('a new node state-syncs, bans the peer serving corrupt chunks, then follows the chain', async () => {
    const dir = initNodeDir(join(root, 'joiner'), join(root, 'producer', 'genesis.json'));
    const joiner = start(dir, [
      '--state-sync',
      '--state-sync-peers',
      '3',
      ...addrs.flatMap((a) => ['--bootstrap', a]),
    ]);
    const logs = (test: (l: LogLine) => boolean, ms: number) => joiner.waitForLog(test, ms);
    const done = await logs(
      (l) => l.msg === 'state sync complete; starting from the snapshot',
      120_000,
    );
    const height = Number(done['height']);
    assert.ok(height > SEEDED, `synced to ${height}`);
    const badPeer = addrs[2]!.split('/p2p/')[1];
    const blamed = joiner.logs.filter((l) => l['event'] === 'snapshot-peer-misbehaved');
    assert.ok(
      blamed.some((l) => l['peer'] === badPeer && l['code'] === 'SNAPSHOT_CHUNK_HASH'),
      JSON.stringify(blamed),
    );
    assert.ok(
      blamed.every((l) => l['peer'] === badPeer),
      'only the corrupt peer is blamed',
    );
    // The second start opens the snapshot's chain: its first height is the snapshot's.
    const opened = await logs(
      (l) => l.msg === 'node initialised' && Number(l['height']) > 0,
      30_000,
    );
    assert.equal(Number(opened['height']), height);
    // Then block sync and gossip take it past the producer's current tip.
    const target = producer.committedHeight + 3;
    await logs((l) => l.msg === 'committed block' && Number(l['height']) >= target, 60_000);
    clearInterval(corrupting);
    await joiner.stop('SIGTERM');
    const verify = runUtxod(['verify-chain', '--datadir', dir]);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /OK/);
  });

  it('a fresh node syncing from genesis does not ask the snapshot node for older blocks', async () => {
    // The node of the first test: its chain begins at a snapshot height, and its status says so.
    const snapshotNode = start(join(root, 'joiner'), [
      '--log-level',
      'debug',
      '--bootstrap',
      addrs[0]!,
    ]);
    const snapshotAddr = await snapshotNode.listenAddr();
    const snapshotPeer = snapshotAddr.split('/p2p/')[1];
    const fresh = start(initNodeDir(join(root, 'fresh'), join(root, 'producer', 'genesis.json')), [
      '--bootstrap',
      snapshotAddr,
      '--bootstrap',
      addrs[0]!,
    ]);
    const target = producer.committedHeight;
    await fresh.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) >= target,
      120_000,
    );
    assert.ok(
      fresh.logs.some((l) => l.msg === 'peer connected' && l['peer'] === snapshotPeer),
      'the fresh node handshook with the snapshot node',
    );
    // Asked for a range below its earliest height, it would log (debug) the refusal.
    const refused = snapshotNode.logs.filter((l) => l.msg === 'request refused');
    assert.deepEqual(refused, []);
    const penalised = fresh.logs.filter(
      (l) => l['event'] === 'sync-peer-penalized' && l['peer'] === snapshotPeer,
    );
    assert.deepEqual(penalised, []);
    await Promise.all([fresh.stop('SIGTERM'), snapshotNode.stop('SIGTERM')]);
  });

  it('a node killed with SIGKILL in the middle of state sync starts over cleanly and completes', async (t) => {
    const dir = initNodeDir(join(root, 'killed'), join(root, 'producer', 'genesis.json'));
    const args = [
      '--state-sync',
      '--state-sync-peers',
      '2',
      ...addrs.slice(0, 2).flatMap((a) => ['--bootstrap', a]),
    ];
    const first = start(dir, args);
    await first.waitForLog(
      (l) =>
        l.msg === 'state sync progress' &&
        l['phase'] === 'fetching' &&
        Number(l['chunksDone']) >= 1,
      120_000,
    );
    await first.stop('SIGKILL');
    const midway = !first.logs.some(
      (l) => l.msg === 'state sync complete; starting from the snapshot',
    );
    t.diagnostic(`killed ${midway ? 'in the middle of' : 'after'} the state sync`);
    // Never a half-built chain where the node opens it.
    const chainDb = join(dir, 'chain');
    if (midway) assert.equal(existsSync(`${chainDb}.snapshot`), false);
    const second = start(dir, args);
    const opened = await second.waitForLog(
      (l) => l.msg === 'node initialised' && Number(l['height']) > 0,
      120_000,
    );
    assert.ok(Number(opened['height']) > SEEDED);
    assert.equal(existsSync(`${chainDb}.snapshot.staging`), false);
    await second.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) > Number(opened['height']),
      60_000,
    );
    await second.stop('SIGTERM');
    const verify = runUtxod(['verify-chain', '--datadir', dir]);
    assert.equal(verify.status, 0, verify.stderr);
  });

  it('its API serves progress while it state-syncs: alive, not ready, then ready with the sync reported', async () => {
    const dir = initNodeDir(join(root, 'watched'), join(root, 'producer', 'genesis.json'));
    // Polled many times a second from one address: the anonymous rate limit would answer 429.
    const configFile = join(dir, 'utxod.json');
    const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    writeFileSync(configFile, JSON.stringify({ ...config, rateLimitEnabled: false }));
    const node = start(dir, [
      '--state-sync',
      '--state-sync-peers',
      '2',
      ...addrs.slice(0, 2).flatMap((a) => ['--bootstrap', a]),
    ]);
    const samples: Sample[] = [];
    let polling = true;
    let token: string | undefined;
    let chunksGauge: number | undefined;
    const poller = (async () => {
      while (polling) {
        // Each start (state sync, then the snapshot's chain) logs where its API listens.
        const line = node.logs.findLast((l) => l.msg === 'api listening');
        if (line !== undefined) {
          token ??= await readerToken(dir);
          const seen = await sample(String(line['url']), token);
          samples.push(seen);
          // The same progress on /metrics (served during and after the sync), read once.
          const metrics = node.logs.findLast((l) => l.msg === 'metrics listening');
          const total = seen.status?.stateSync?.chunksTotal ?? 0;
          if (chunksGauge === undefined && total > 0 && metrics !== undefined)
            chunksGauge = await chunksTotalGauge(String(metrics['url']));
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    try {
      const done = await node.waitForLog(
        (l) => l.msg === 'state sync complete; starting from the snapshot',
        120_000,
      );
      const height = Number(done['height']);
      await until(
        () => samples.some((x) => x.ready === 200 && x.status?.stateSync?.phase === 'done'),
        90_000,
        'the node ready after its state sync',
      ).catch((error: Error) => {
        throw new Error(`${error.message}; last samples ${JSON.stringify(samples.slice(-3))}`);
      });
      polling = false;
      await poller;
      const during = samples.filter((x) => x.status?.stateSync?.phase !== 'done' && x.status);
      assert.ok(during.length > 0, 'status answered while the sync ran');
      for (const x of during) {
        const what = JSON.stringify(x);
        assert.equal(x.live, 200, what);
        assert.equal(x.ready, 503, what);
        assert.equal(x.readyChain, false, what);
        assert.equal(x.status!.syncing, true, what);
        assert.equal(x.tip, 'STATE_SYNC_IN_PROGRESS', what);
      }
      assert.ok(chunksGauge !== undefined && chunksGauge > 0, `gauge ${chunksGauge}`);
      // Progress only moves forward, and it was seen moving.
      const rank = { discovering: 0, fetching: 1, done: 2 } as const;
      const steps = samples
        .map((x) => x.status?.stateSync)
        .filter((p) => p !== undefined && p !== null)
        .map((p) => rank[p.phase] * 1e9 + p.chunksDone);
      for (let i = 1; i < steps.length; i++) assert.ok(steps[i]! >= steps[i - 1]!, `${steps}`);
      assert.ok(new Set(steps).size >= 2, `progress seen advancing: ${[...new Set(steps)]}`);
      const last = samples.findLast((x) => x.status !== undefined)!;
      const finished = last.status!.stateSync!;
      assert.equal(finished.phase, 'done');
      assert.equal(finished.height, height);
      assert.equal(finished.earliestHeight, height);
      assert.ok(finished.chunksTotal > 0 && finished.chunksDone === finished.chunksTotal);
      assert.ok(finished.bytesDone > 0 && finished.peers >= 1);
      assert.equal(last.status!.earliestHeight, height);
      assert.equal(last.tip, 'ok');
      // Readiness went from false (state sync) to true (following the chain).
      const firstReady = samples.findIndex((x) => x.ready === 200);
      assert.ok(samples.slice(0, firstReady).some((x) => x.ready === 503));
    } finally {
      polling = false;
      await poller;
      await node.stop('SIGTERM');
    }
  });
});
