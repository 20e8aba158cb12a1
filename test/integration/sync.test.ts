/**
 * Block sync between real node processes on loopback. The producer's data
 * directory is seeded offline with SEEDED blocks (signed by its validator
 * key, as the node itself would) so the tests do not wait for a slow
 * producer; then it runs with --block-interval 50 and keeps producing.
 *
 * 1. A node started afterwards catches up from the producer and then follows gossip.
 * 2. A follower killed with SIGKILL in the middle of sync resumes on restart,
 *    finishes, and its stored chain verifies.
 * 3. An in-process libp2p peer serving corrupted blocks (through the real
 *    req/resp layer) is penalised and banned; sync completes from the producer.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlockImporter } from '../../src/chain/block-importer.ts';
import { Chain } from '../../src/chain/chain.ts';
import { openChainOffline } from '../../src/cli/offline.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { ParallelVerifier } from '../../src/crypto/verify-pool.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { dataPaths, loadGenesis, loadValidatorKey } from '../../src/node/datadir.ts';
import { P2PHost } from '../../src/p2p/index.ts';
import { Block } from '../../src/primitives/block.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { Database } from '../../src/storage/db.ts';
import { connectSoloBlock } from '../support/chain-fixture.ts';
import {
  getJson,
  initNodeDir,
  issueToken,
  type LogLine,
  NodeProcess,
  runUtxod,
} from '../support/node-process.ts';

const SEEDED = 1200;
const root = mkdtempSync(join(tmpdir(), 'utxod-sync-'));
const started: NodeProcess[] = [];
let producerDir = '';
let producer: NodeProcess;
let producerAddr = '';
/** A copy of the producer's chain as seeded, for the malicious peer. */
let seededCopy = '';

function init(name: string, genesisFile?: string): string {
  return initNodeDir(join(root, name), genesisFile);
}

function start(dir: string, args: string[] = []): NodeProcess {
  const node = NodeProcess.start(dir, ['--p2p-host', '127.0.0.1', ...args]);
  started.push(node);
  return node;
}

/** Connects `blocks` empty blocks, certified by the datadir's validator key, while the node is stopped. */
async function seed(dir: string, blocks: number): Promise<void> {
  const key = loadValidatorKey(dataPaths(dir))!;
  const offline = await openChainOffline(dir, silentLogger());
  const { chain } = offline;
  try {
    for (let i = 0; i < blocks; i++) {
      await connectSoloBlock(chain, key);
    }
  } finally {
    await offline.close();
  }
}

async function tipOf(node: NodeProcess): Promise<{ height: number; hash: string }> {
  return (await getJson<{ height: number; hash: string }>(`${await node.url()}/api/v1/chain/tip`))
    .body;
}

async function hashAt(node: NodeProcess, height: number): Promise<string> {
  const { status, body } = await getJson<{ hash: string }>(
    `${await node.url()}/api/v1/blocks/height/${height}`,
  );
  assert.equal(status, 200);
  return body.hash;
}

const caughtUp = (l: LogLine) => l.msg === 'sync: caught up; following gossip';

/** Waits for a log line; on failure the error carries the node's recent sync and p2p lines. */
async function expectLog(
  node: NodeProcess,
  test: (l: LogLine) => boolean,
  ms: number,
): Promise<LogLine> {
  try {
    return await node.waitForLog(test, ms);
  } catch (error) {
    const recent = node.logs
      .filter((l) => l.msg !== 'committed block')
      .slice(-15)
      .map((l) => JSON.stringify(l))
      .join('\n');
    throw new Error(
      `${(error as Error).message}\nlast height ${node.committedHeight}; recent:\n${recent}`,
    );
  }
}
const syncedBlock = (l: LogLine) => l.msg === 'committed block' && l['source'] === 'sync';

interface NodeStatus {
  syncing: boolean;
  sync: {
    state: string;
    currentHeight: number;
    targetHeight: number;
    blocksPerSecond: number;
    etaSeconds: number | null;
  } | null;
  peers: number;
}

/**
 * Polls /api/v1/node/status (with a reader token: the route needs one) every
 * 50 ms until `until` settles; every answer must be a 200.
 */
async function pollStatus(
  url: string,
  token: string,
  until: Promise<unknown>,
): Promise<NodeStatus[]> {
  let done = false;
  const finished = until.finally(() => {
    done = true;
  });
  const samples: NodeStatus[] = [];
  while (!done) {
    const { status, body } = await getJson<NodeStatus>(`${url}/api/v1/node/status`, token);
    assert.equal(status, 200, JSON.stringify(body));
    samples.push(body);
    await Promise.race([finished, new Promise((r) => setTimeout(r, 50))]);
  }
  await finished;
  return samples;
}

describe('block sync between node processes', { timeout: 240_000 }, () => {
  before(async () => {
    producerDir = init('producer');
    const t0 = performance.now();
    await seed(producerDir, SEEDED);
    process.stderr.write(`seeded ${SEEDED} blocks in ${Math.round(performance.now() - t0)} ms\n`);
    seededCopy = join(root, 'seeded-copy');
    cpSync(join(producerDir, 'chain'), seededCopy, { recursive: true });
    producer = start(producerDir, ['--block-interval', '50']);
    producerAddr = await producer.listenAddr();
    await producer.waitForLog((l) => l.msg === 'committed block' && l['source'] === 'producer');
  });

  after(() => {
    for (const node of started) node.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it(`a node started after ${SEEDED}+ blocks catches up, then follows gossip`, async () => {
    const dir = init('follower', join(producerDir, 'genesis.json'));
    const t0 = performance.now();
    const follower = start(dir, ['--bootstrap', producerAddr]);
    const url = await follower.url(90_000);
    const token = issueToken(dir);
    const caught = expectLog(follower, caughtUp, 90_000);
    const samples = await pollStatus(url, token, caught);
    const done = await caught;
    const seconds = (performance.now() - t0) / 1000;
    const height = Number(done['height']);
    assert.ok(height >= SEEDED, `caught up at ${height}`);
    const synced = follower.logs.filter(syncedBlock).length;
    assert.ok(synced >= SEEDED - 5, `${synced} blocks came through sync`);
    process.stderr.write(`follower synced ${synced} blocks in ${seconds.toFixed(1)} s\n`);
    // The status route reported the sync while it ran: progress that only
    // grows, never past its target, and a target at least the seeded chain.
    const during = samples.filter((s) => s.syncing);
    assert.ok(during.length > 0, `no status sample while syncing (${samples.length} samples)`);
    let last = -1;
    for (const { sync } of during) {
      assert.ok(sync !== null, 'a syncing node reports its progress');
      assert.ok(['idle', 'syncing', 'synced'].includes(sync.state), sync.state);
      assert.ok(sync.currentHeight >= last, 'progress never goes back');
      assert.ok(sync.currentHeight <= sync.targetHeight, JSON.stringify(sync));
      assert.ok(sync.etaSeconds === null || sync.etaSeconds >= 0);
      last = sync.currentHeight;
    }
    assert.ok(during.some((s) => s.sync!.state === 'syncing'));
    assert.ok(
      during.some((s) => s.sync!.targetHeight >= SEEDED),
      `target ${during.at(-1)!.sync!.targetHeight} below the seeded ${SEEDED}`,
    );
    // (The 'sync progress' log line is written every 5 s, so a quick sync may log none.)
    for (const line of follower.logs.filter((l) => l.msg === 'sync progress')) {
      assert.ok(Number(line['height']) <= Number(line['target']));
    }
    const settled = await getJson<NodeStatus>(`${url}/api/v1/node/status`, token);
    assert.equal(settled.status, 200);
    assert.equal(settled.body.syncing, false);
    assert.ok(settled.body.peers >= 1);

    // Following: new blocks arrive (from gossip, or sync's follow mode) and the chains agree.
    await follower.waitForLog(
      (l) => l.msg === 'committed block' && Number(l['height']) >= height + 20,
      30_000,
    );
    // Gossip takes over once its mesh has formed (a few 1 s heartbeats).
    await follower.waitForLog(
      (l) => l.msg === 'committed block' && l['source'] === 'gossip',
      30_000,
    );
    const tip = await tipOf(follower);
    assert.equal(await hashAt(producer, tip.height), tip.hash);
    assert.equal((await follower.stop('SIGTERM')).code, 0, follower.stderr);
  });

  it('a follower killed with SIGKILL during sync resumes and finishes', async () => {
    const dir = init('killed', join(producerDir, 'genesis.json'));
    const first = start(dir, ['--bootstrap', producerAddr]);
    await first.waitForLog((l) => syncedBlock(l) && Number(l['height']) >= 300, 60_000);
    const killed = await first.stop('SIGKILL');
    assert.equal(killed.signal, 'SIGKILL');
    const killedAt = first.committedHeight;
    assert.ok(killedAt < SEEDED, `killed at ${killedAt}, during sync`);

    const second = start(dir, ['--bootstrap', producerAddr]);
    const started = await second.waitForLog((l) => l.msg === 'node initialised');
    assert.ok(Number(started['height']) >= killedAt - 1, 'resumes from what was on disk');
    const done = await expectLog(second, caughtUp, 90_000);
    assert.ok(Number(done['height']) >= SEEDED);
    const tip = await tipOf(second);
    assert.equal(await hashAt(producer, tip.height), tip.hash);
    assert.equal((await second.stop('SIGTERM')).code, 0, second.stderr);
    const verified = runUtxod(['verify-chain', '--datadir', dir]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  });

  it('penalises and bans a peer serving corrupted blocks; sync completes from the honest peer', async () => {
    // The liar: a real libp2p host with the real req/resp layer, over a chain whose
    // blocks from height 100 on are served with a coinbase amount changed.
    const liarDir = join(root, 'liar');
    mkdirSync(liarDir);
    const db = await Database.open({ path: seededCopy, syncWrites: false });
    const verifier = await ParallelVerifier.init({ workers: 0 });
    const signatures = new SignatureChecker({ verifier, cache: null });
    const chain = await Chain.init(
      { utxoCacheBytes: 8 << 20 },
      { db, genesis: loadGenesis(dataPaths(producerDir)), signatures, logger: silentLogger() },
    );
    const corrupt = (block: Block): Block => {
      const bytes = block.txs[0]!.encode().slice();
      bytes[6] = bytes[6]! ^ 1; // version(4) inputs(1) outputs(1) | amount...
      return new Block(block.header, block.lastCommit, [
        Transaction.decode(bytes),
        ...block.txs.slice(1),
      ]);
    };
    const lyingChain = new Proxy(chain, {
      get(target, prop) {
        if (prop === 'getBlockAt') {
          return async (height: number) => {
            const block = await target.getBlockAt(height);
            return block !== undefined && height >= 100 ? corrupt(block) : block;
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const mempool = new Mempool(
      { maxBytes: 1 << 20, minRelayFeeRate: 0n },
      { params: chain.params, chainIdHash: chain.chainIdHash, chain, signatures },
    );
    const importer = new BlockImporter({ chain, mempool, metrics: null, logger: silentLogger() });
    const liar = await P2PHost.init(
      {
        host: '127.0.0.1',
        port: 0,
        bootstrap: [],
        maxConnections: 20,
        maxInboundPerIp: 20,
        banDurationMs: 60_000,
        identityPath: join(liarDir, 'p2p.key'),
      },
      { logger: silentLogger(), db, chain: lyingChain, mempool, importer, metricsRegistry: null },
    );
    try {
      await liar.start();
      const liarAddr = liar.listenAddrs[0]!;
      const dir = init('victim', join(producerDir, 'genesis.json'));
      // The liar first, so it is surely asked for ranges.
      const victim = start(dir, ['--bootstrap', liarAddr, '--bootstrap', producerAddr]);
      const penalised = await victim.waitForLog(
        (l) => l.msg === 'sync: peer penalised' && l['peer'] === liar.peerId,
        60_000,
      );
      assert.equal(penalised['code'], 'BLOCK_BAD_TX_ROOT');
      assert.equal(penalised['penalty'], 100);
      const banned = await victim.waitForLog(
        (l) => l.msg === 'peer banned' && l['peer'] === liar.peerId,
        20_000,
      );
      assert.match(String(banned['reason']), /BLOCK_BAD_TX_ROOT/);
      const done = await expectLog(victim, caughtUp, 90_000);
      assert.ok(Number(done['height']) >= SEEDED);
      const tip = await tipOf(victim);
      assert.equal(await hashAt(producer, tip.height), tip.hash);
      // Nothing the liar served was connected.
      assert.equal(await hashAt(victim, 150), await hashAt(producer, 150));
      assert.equal((await victim.stop('SIGTERM')).code, 0, victim.stderr);
    } finally {
      await liar.close();
      await verifier.close();
      await db.close();
    }
  });
});
