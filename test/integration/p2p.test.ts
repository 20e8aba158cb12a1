/**
 * Real node processes on loopback: a producer and four followers (one of them
 * three hops away) joined from the producer's genesis.json; a transaction
 * submitted to the farthest follower is admitted once by every mempool,
 * committed by the producer, and every node ends on the same tip and UTXO
 * commitment. A node of another genesis is refused at the handshake.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { buildTransaction } from '../../src/client/tx-builder.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { toHex } from '../../src/util/bytes.ts';
import {
  getJson,
  initNodeDir,
  issueToken,
  NodeProcess,
  postJson,
} from '../support/node-process.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-p2p-'));
const started: NodeProcess[] = [];
/** Start-up on a loaded 2-core machine can take tens of seconds. */
const STARTUP_MS = 90_000;

function init(name: string, genesisFile?: string): string {
  return initNodeDir(join(root, name), genesisFile);
}

function start(dir: string, args: string[] = []): NodeProcess {
  const node = NodeProcess.start(dir, ['--p2p-host', '127.0.0.1', ...args]);
  started.push(node);
  return node;
}

function connectedPeers(node: NodeProcess): number {
  return node.logs.filter((l) => l.msg === 'peer connected').length;
}

async function waitFor(what: string, test: () => Promise<boolean> | boolean, ms = 30_000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await test()) return;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function metric(node: NodeProcess, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${await node.metricsUrl()}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** A loopback TCP port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Tip {
  height: number;
  hash: string;
  utxoRoot: string;
}

describe('p2p network of node processes', { timeout: 300_000 }, () => {
  after(() => {
    for (const node of started) node.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('relays a transaction and its block across five nodes; refuses another genesis', async () => {
    const producerDir = init('producer');
    const genesisFile = join(producerDir, 'genesis.json');
    const followerDirs = ['b', 'c', 'd', 'e'].map((n) => init(n, genesisFile));
    const strangerDir = init('stranger');

    // Without empty blocks every node is at genesis until the transaction's block.
    const producer = start(producerDir, ['--block-interval', '200', '--no-empty-blocks']);
    const addrA = await producer.listenAddr(STARTUP_MS);
    const b = start(followerDirs[0]!, ['--bootstrap', addrA]);
    const c = start(followerDirs[1]!, ['--bootstrap', addrA]);
    const d = start(followerDirs[2]!, ['--bootstrap', await b.listenAddr(STARTUP_MS)]);
    const e = start(followerDirs[3]!, ['--bootstrap', await d.listenAddr(STARTUP_MS)]);
    const nodes = [producer, b, c, d, e];
    await waitFor('the handshakes', () =>
      [2, 2, 1, 2, 1].every((n, i) => connectedPeers(nodes[i]!) >= n),
    );
    // Let gossipsub exchange subscriptions and build its meshes (1 s heartbeat).
    await sleep(2500);

    const genesis = parseGenesis(readFileSync(genesisFile, 'utf8'));
    const genesisTx = (await buildGenesisBlock(genesis)).block.txs[0]!;
    const seed = mnemonicToSeed(DEVNET_MNEMONIC);
    const alice = deriveKey(seed, accountPath(1, 0, 0));
    const bob = deriveKey(seed, accountPath(1, 0, 7));
    const pay = buildTransaction({
      chainId: genesis.chainId,
      coins: [
        {
          outpoint: { txid: genesisTx.txid, index: 0 },
          amount: genesisTx.outputs[0]!.amount,
          lock: genesisTx.outputs[0]!.lock,
        },
      ],
      outputs: [{ amount: 25n * COIN, lock: pubkeyLock(bob.publicKey) }],
      changeLock: pubkeyLock(alice.publicKey),
      feeRate: 2000n,
      keys: [alice],
    });
    const urlE = await e.url(STARTUP_MS);
    const submitted = await postJson<{ status: string }>(`${urlE}/api/v1/txs`, {
      hex: toHex(pay.encode()),
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));

    const urls = await Promise.all(nodes.map((n) => n.url(STARTUP_MS)));
    const txid = toHex(pay.txid);
    await waitFor('the transaction committed everywhere', async () => {
      for (const url of urls) {
        const { body } = await getJson<{ status: string }>(`${url}/api/v1/txs/${txid}`);
        if (body.status !== 'committed') return false;
      }
      return true;
    });
    const tips = await Promise.all(
      urls.map(async (url) => (await getJson<Tip>(`${url}/api/v1/chain/tip`)).body),
    );
    for (const tip of tips) {
      assert.ok(tip.height >= 1);
      assert.deepEqual(
        { height: tip.height, hash: tip.hash, utxoRoot: tip.utxoRoot },
        { height: tips[0]!.height, hash: tips[0]!.hash, utxoRoot: tips[0]!.utxoRoot },
      );
    }
    // Exactly once: every node but the submitter admitted it from gossip once
    // (duplicates are dropped by message id = content hash before validation).
    const accepted = await Promise.all(
      nodes.map((n) => metric(n, 'utxod_p2p_gossip_messages_total', 'topic="tx",verdict="accept"')),
    );
    assert.deepEqual(accepted, [1, 1, 1, 1, 0]);
    const text = await (await fetch(`${await producer.metricsUrl()}/metrics`)).text();
    assert.match(text, /^utxod_p2p_peers_connected 2$/m);
    assert.match(text, /^libp2p_/m, "libp2p's own metrics share the node's registry");
    for (const follower of [b, c, d, e]) {
      assert.ok(
        follower.logs.some((l) => l.msg === 'committed block' && l['source'] === 'gossip'),
        'followers import the block from gossip',
      );
    }

    // A node of another network (its own devnet genesis) is refused, and not redialled.
    // Its second bootstrap address is a closed port: each failed dial there
    // (logged at debug) proves a redial round ran, which would also have
    // redialled the producer had the refusal not held.
    const deadAddr = `/ip4/127.0.0.1/tcp/${await closedPort()}/p2p/${(await b.listenAddr(STARTUP_MS)).split('/p2p/')[1]}`;
    const stranger = start(strangerDir, [
      '--bootstrap',
      addrA,
      '--bootstrap',
      deadAddr,
      '--log-level',
      'debug',
    ]);
    // Start-up on a loaded 2-core machine can take tens of seconds.
    const refused = await stranger.waitForLog((l) => l.msg === 'incompatible peer refused', 90_000);
    assert.match(String(refused['reason']), /genesis/);
    await producer.waitForLog((l) => l.msg === 'incompatible peer refused', 90_000);
    const deadDials = () =>
      stranger.logs.filter(
        (l) =>
          l.msg === 'bootstrap dial failed' &&
          String(l['addr']).startsWith(deadAddr.split('/p2p/')[0]!),
      ).length;
    // The first round, then two redial rounds after the refusal.
    await waitFor('two redial rounds of the stranger', () => deadDials() >= 3, 30_000);
    assert.equal(connectedPeers(stranger), 0);
    assert.equal(
      stranger.logs.filter((l) => l.msg === 'incompatible peer refused').length,
      1,
      'logged once',
    );
    assert.equal(
      await metric(stranger, 'utxod_p2p_handshakes_total', 'outcome="incompatible"'),
      1,
      'never redialled: one incompatible handshake only',
    );
    const status = await getJson<{ peers: number }>(
      `${urls[0]}/api/v1/node/status`,
      issueToken(producerDir),
    );
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.peers, 2);

    for (const node of nodes) assert.equal((await node.stop('SIGTERM')).code, 0, node.stderr);
  });
});
