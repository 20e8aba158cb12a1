/**
 * Gossip latency between two real node processes over loopback: a transaction
 * submitted to node A's API, until node B admitted it to its mempool (seen on
 * B's address stream). Baseline, in the same run: the local round trip of the
 * same submission on A (decode, admit, answer), i.e. what one hop adds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { NETWORK_HRP } from '../../src/crypto/address.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { lockToAddress } from '../../src/primitives/address.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { toHex } from '../../src/util/bytes.ts';
import { initNodeDir, NodeProcess, runUtxod } from '../../test/support/node-process.ts';
import { type BenchResult, percentile, size } from '../lib.ts';

const SUITE = 'gossip';
const TXS = size(100, 30);

export async function run(): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'utxod-bench-gossip-'));
  const nodes: NodeProcess[] = [];
  try {
    const dirA = join(root, 'a');
    const dirB = join(root, 'b');
    initNodeDir(dirA);
    initNodeDir(dirB, join(dirA, 'genesis.json'));
    const genesis = parseGenesis(readFileSync(join(dirA, 'genesis.json'), 'utf8'));
    // The bench submits faster than the default anonymous submit limit (60 a minute).
    process.env['UTXOD_RATE_LIMIT_SUBMIT'] = '100000';
    const a = NodeProcess.start(dirA, ['--p2p-host', '127.0.0.1', '--block-interval', '500']);
    nodes.push(a);
    const addrA = await a.listenAddr(60_000);
    const b = NodeProcess.start(dirB, ['--p2p-host', '127.0.0.1', '--bootstrap', addrA]);
    nodes.push(b);
    const [urlA, urlB] = [await a.url(), await b.url()];
    await b.waitForLog((l) => l.msg === 'peer connected', 60_000);

    // Fan the premine out so that TXS independent transactions can be submitted.
    const seed = mnemonicToSeed(DEVNET_MNEMONIC);
    const alice = deriveKey(seed, accountPath(1, 0, 0));
    const bob = deriveKey(seed, accountPath(1, 0, 9));
    const genesisTx = (await buildGenesisBlock(genesis)).block.txs[0]!;
    const premine: SpendableCoin = {
      outpoint: { txid: genesisTx.txid, index: 0 },
      amount: genesisTx.outputs[0]!.amount,
      lock: genesisTx.outputs[0]!.lock,
    };
    const aliceLock = pubkeyLock(alice.publicKey);
    const fan = buildTransaction({
      chainId: genesis.chainId,
      coins: [premine],
      outputs: Array.from({ length: TXS }, () => ({ amount: COIN, lock: aliceLock })),
      changeLock: aliceLock,
      feeRate: 2000n,
      keys: [alice],
    });
    await submit(urlA, fan);
    await waitForCommitted(urlB, fan);
    const payments: Transaction[] = fan.outputs.slice(0, TXS).map((o, index) =>
      buildTransaction({
        chainId: genesis.chainId,
        coins: [{ outpoint: { txid: fan.txid, index }, amount: o.amount, lock: o.lock }],
        outputs: [{ amount: COIN / 2n, lock: pubkeyLock(bob.publicKey) }],
        changeLock: aliceLock,
        feeRate: 2000n,
        keys: [alice],
      }),
    );

    // B's address stream reports each payment when B's mempool admits it.
    const token = runOk([
      'token',
      'issue',
      '--role',
      'reader',
      '--ttl',
      '10m',
      '--datadir',
      dirB,
    ]).trim();
    const ws = new WebSocket(`${urlB.replace('http', 'ws')}/api/v1/stream?access_token=${token}`);
    const arrivals = new Map<string, number>();
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('stream did not open')));
    });
    const bobAddress = lockToAddress(
      pubkeyLock(bob.publicKey),
      NETWORK_HRP[genesis.params.network],
    );
    const subscribed = new Promise<void>((resolve) => {
      ws.addEventListener('message', (event) => {
        const message = JSON.parse(String(event.data)) as {
          type: string;
          txid?: string;
          status?: string;
        };
        if (message.type === 'subscribed') resolve();
        if (message.type === 'tx' && message.status === 'mempool' && message.txid !== undefined) {
          if (!arrivals.has(message.txid)) arrivals.set(message.txid, performance.now());
        }
      });
    });
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'address', address: bobAddress }));
    await subscribed;

    const sent = new Map<string, number>();
    const localMs: number[] = [];
    for (const tx of payments) {
      const started = performance.now();
      sent.set(toHex(tx.txid), started);
      await submit(urlA, tx);
      localMs.push(performance.now() - started);
      await sleep(20);
    }
    const deadline = Date.now() + 15_000;
    while (arrivals.size < payments.length && Date.now() < deadline) await sleep(50);
    ws.close();
    const latencies = [...sent]
      .filter(([txid]) => arrivals.has(txid))
      .map(([txid, t0]) => arrivals.get(txid)! - t0);
    latencies.sort((x, y) => x - y);
    localMs.sort((x, y) => x - y);
    const localP50 = percentile(localMs, 50);
    return [
      {
        suite: SUITE,
        name: 'submit on A, local API round trip p50 (baseline)',
        value: localP50,
        unit: 'ms',
      },
      {
        suite: SUITE,
        name: `submit on A -> in B's mempool, p50 (${latencies.length}/${payments.length} arrived)`,
        value: percentile(latencies, 50),
        unit: 'ms',
        ratio: percentile(latencies, 50) / localP50,
        baselineName: 'local round trip p50',
      },
      {
        suite: SUITE,
        name: "submit on A -> in B's mempool, p99",
        value: percentile(latencies, 99),
        unit: 'ms',
      },
    ];
  } finally {
    delete process.env['UTXOD_RATE_LIMIT_SUBMIT'];
    for (const node of nodes) node.child.kill('SIGKILL');
    await Promise.all(nodes.map((n) => n.exited));
    rmSync(root, { recursive: true, force: true });
  }
}

function runOk(args: string[]): string {
  const result = runUtxod(args);
  if (result.status !== 0) throw new Error(`utxod ${args[0]} failed: ${result.stderr}`);
  return result.stdout;
}

async function submit(url: string, tx: Transaction): Promise<void> {
  const response = await fetch(`${url}/api/v1/txs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ hex: toHex(tx.encode()) }),
  });
  if (response.status !== 202)
    throw new Error(`submit failed: ${response.status} ${await response.text()}`);
}

async function waitForCommitted(url: string, tx: Transaction): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const response = await fetch(`${url}/api/v1/txs/${toHex(tx.txid)}`);
    const body = (await response.json()) as { status?: string };
    if (body.status === 'committed') return;
    await sleep(100);
  }
  throw new Error('fan-out transaction never committed on B');
}
