/**
 * State sync between real node processes on loopback: a producer and two
 * followers write snapshots every 10 blocks while the producer keeps making
 * blocks; one follower's snapshot chunks are corrupted on disk (it serves
 * wrong bytes). A new node started with `--state-sync` on an empty data
 * directory takes the newest snapshot all three offer, bans the corrupt
 * peer, verifies the rest, opens the chain at the snapshot's height with no
 * history below, and then block-syncs and follows the chain. A fresh node
 * syncing from genesis then never asks that node for blocks below its
 * snapshot height (its status says where its history starts).
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
import { initNodeDir, type LogLine, NodeProcess, runUtxod } from '../support/node-process.ts';

const SEEDED = 40;
const root = mkdtempSync(join(tmpdir(), 'utxod-statesync-'));
const started: NodeProcess[] = [];

function init(name: string, genesisFile?: string): string {
  const dir = initNodeDir(join(root, name), genesisFile);
  const configFile = join(dir, 'utxod.json');
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as Record<string, unknown>;
  writeFileSync(
    configFile,
    JSON.stringify({ ...config, snapshotInterval: 10, snapshotKeep: 3, snapshotChunkBytes: 1024 }),
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

describe('state sync from three peer processes', { timeout: 240_000 }, () => {
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
    const producerAddr = await producer.listenAddr();
    const genesis = join(p, 'genesis.json');
    const f1 = start(init('follower-1', genesis), ['--bootstrap', producerAddr]);
    badDir = init('follower-2', genesis);
    const f2 = start(badDir, ['--bootstrap', producerAddr]);
    peers = [producer, f1, f2];
    addrs = [producerAddr, await f1.listenAddr(), await f2.listenAddr()];
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
});
