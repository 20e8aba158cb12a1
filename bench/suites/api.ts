/**
 * API: requests per second and p99 latency of `GET /api/v1/chain/tip` and of
 * transaction submission (`POST /api/v1/txs`) through the full server (helmet,
 * request ids, schemas, request metrics, and the auth plugin with rate
 * limiting on, limits set above the offered load), each as a ratio to a bare
 * Fastify route doing the same I/O measured in this run. Load comes from this
 * process over loopback keep-alive connections, bounded in time and count.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openAuthStack } from '../../src/api/auth/wiring.ts';
import { ApiServer } from '../../src/api/server.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { loadConfig } from '../../src/config/index.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { Mempool } from '../../src/mempool/mempool.ts';
import { createMetricsRegistry } from '../../src/metrics/registry.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { toHex } from '../../src/util/bytes.ts';
import {
  genesisCoins,
  openTestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { type BenchResult, percentile, size } from '../lib.ts';

const SUITE = 'api';
const CONCURRENCY = 16;
/** Reads alternate between the baseline and the API in short rounds: a shared, busy machine's
 * drift then hits both alike, and the median of the per-round ratios is what is reported. */
const READ_ROUNDS = size(9, 3);
const READ_ROUND_MS = 400;
const SUBMIT_TXS = size(1500, 300);

interface LoadResult {
  rate: number;
  p99Ms: number;
  failures: number;
  latencies: number[];
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Runs `CONCURRENCY` request loops against `url` until `ms` passes or `bodies` run out. */
async function load(
  url: string,
  opts: { method: string; ms: number; bodies?: string[]; expect: number },
): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const target = new URL(url);
  const latencies: number[] = [];
  let failures = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + opts.ms;
  const one = (body: string | undefined) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname,
          method: opts.method,
          headers:
            body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const worker = async () => {
    for (;;) {
      if (performance.now() > deadline) return;
      let body: string | undefined;
      if (opts.bodies !== undefined) {
        if (next >= opts.bodies.length) return;
        body = opts.bodies[next++];
      }
      const t0 = performance.now();
      const status = await one(body);
      latencies.push(performance.now() - t0);
      if (status !== opts.expect) failures++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    rate: latencies.length / seconds,
    p99Ms: percentile(latencies, 99),
    failures,
    latencies,
  };
}

/** A funding transaction with `count` outputs, then one signed spend of each. */
async function spends(
  t: Awaited<ReturnType<typeof openTestChain>>,
  mempool: Mempool,
  count: number,
): Promise<Transaction[]> {
  const alice = testKey(1);
  const lock = pubkeyLock(alice.publicKey);
  const chainId = t.chain.genesis.chainId;
  const fund = buildTransaction({
    chainId,
    coins: [(await genesisCoins(t.chain))[0]!],
    outputs: Array.from({ length: count }, () => ({ amount: COIN / 10n, lock })),
    changeLock: lock,
    feeRate: 1000n,
    keys: [alice],
  });
  await mempool.add(fund);
  const template = mempool.blockTemplate({ maxBytes: 1024 * 1024 });
  const block = await t.produce(template.txs, template.fees);
  await mempool.removeForBlock(block);
  return Array.from({ length: count }, (_, index) => {
    const coin: SpendableCoin = { outpoint: { txid: fund.txid, index }, amount: COIN / 10n, lock };
    return buildTransaction({
      chainId,
      coins: [coin],
      outputs: [{ amount: COIN / 20n, lock: pubkeyLock(testKey(2).publicKey) }],
      changeLock: lock,
      feeRate: 2000n,
      keys: [alice],
    });
  });
}

export async function run(): Promise<BenchResult[]> {
  const validator = testKey(0);
  const t = await openTestChain({
    genesis: testGenesis({
      validator,
      funded: [testKey(1)],
      amount: 10_000n * COIN,
    }),
    validator,
    cacheBytes: 64 << 20,
  });
  const configDir = mkdtempSync(join(tmpdir(), 'utxod-bench-api-'));
  const logger = silentLogger();
  const registry = createMetricsRegistry({ defaultMetrics: false });
  const mempool = new Mempool(
    { maxBytes: 64 * 1024 * 1024, minRelayFeeRate: 1000n },
    {
      params: t.chain.params,
      chainIdHash: t.chain.chainIdHash,
      chain: t.chain,
      signatures: new SignatureChecker({ verifier: t.verifier, cache: null }),
    },
  );
  // Rate limiting on, limits far above this run's load: the limiter's cost is measured, never a 429.
  const config = loadConfig(
    configDir,
    {
      rateLimitAnonymous: '1000000',
      rateLimitSubmit: '1000000',
      authScryptLogN: '10',
    },
    {},
  );
  const auth = await openAuthStack(config, { db: t.db, logger, metricsRegistry: registry });
  const api = await ApiServer.init(
    { host: '127.0.0.1', port: 0 },
    { chain: t.chain, mempool, metricsRegistry: registry, logger, auth: auth.apiHook },
  );
  const apiUrl = await api.listen();
  // The same server without the auth plugin: attributes the difference to auth and rate limiting.
  const plain = await ApiServer.init(
    { host: '127.0.0.1', port: 0 },
    {
      chain: t.chain,
      mempool,
      metricsRegistry: createMetricsRegistry({ defaultMetrics: false }),
      logger,
    },
  );
  const plainUrl = await plain.listen();

  const bare = Fastify();
  const tip = {
    height: 1,
    hash: '00'.repeat(32),
    time: 0,
    utxoRoot: '00'.repeat(32),
    chainId: 'x',
  };
  bare.get('/tip', async () => tip);
  bare.post('/txs', async (req, reply) => {
    void reply.status(202);
    return { txid: (req.body as { hex: string }).hex.slice(0, 64), status: 'accepted' };
  });
  const bareUrl = await bare.listen({ host: '127.0.0.1', port: 0 });

  const results: BenchResult[] = [];
  try {
    // Warm both servers (JIT, connections) before measuring.
    await load(`${bareUrl}/tip`, { method: 'GET', ms: 300, expect: 200 });
    await load(`${apiUrl}/api/v1/chain/tip`, { method: 'GET', ms: 300, expect: 200 });
    const bareRates: number[] = [];
    const apiRates: number[] = [];
    const ratios: number[] = [];
    const plainRatios: number[] = [];
    const apiLatencies: number[] = [];
    for (let round = 0; round < READ_ROUNDS; round++) {
      const bareRound = await load(`${bareUrl}/tip`, {
        method: 'GET',
        ms: READ_ROUND_MS,
        expect: 200,
      });
      const apiRound = await load(`${apiUrl}/api/v1/chain/tip`, {
        method: 'GET',
        ms: READ_ROUND_MS,
        expect: 200,
      });
      const plainRound = await load(`${plainUrl}/api/v1/chain/tip`, {
        method: 'GET',
        ms: READ_ROUND_MS,
        expect: 200,
      });
      plainRatios.push(plainRound.rate / bareRound.rate);
      if (apiRound.failures > 0)
        throw new Error(`api bench: ${apiRound.failures} tip reads failed`);
      bareRates.push(bareRound.rate);
      apiRates.push(apiRound.rate);
      ratios.push(apiRound.rate / bareRound.rate);
      apiLatencies.push(...apiRound.latencies);
    }
    apiLatencies.sort((a, b) => a - b);
    const bareRead = { rate: median(bareRates) };
    const apiRead = { rate: median(apiRates), p99Ms: percentile(apiLatencies, 99) };
    results.push(
      {
        suite: SUITE,
        name: 'bare Fastify GET (baseline)',
        value: bareRead.rate,
        unit: 'req/s',
      },
      {
        suite: SUITE,
        name: 'GET /api/v1/chain/tip (auth + rate limit on)',
        value: apiRead.rate,
        unit: 'req/s',
        ratio: median(ratios),
        baselineName: 'bare Fastify GET',
        goal: { value: 0.6, better: 'higher' },
      },
      { suite: SUITE, name: 'GET /api/v1/chain/tip p99 latency', value: apiRead.p99Ms, unit: 'ms' },
      {
        suite: SUITE,
        name: 'GET /api/v1/chain/tip without the auth plugin (ratio only)',
        value: median(plainRatios),
        unit: 'x bare',
        ratio: median(plainRatios),
        baselineName: 'bare Fastify GET',
      },
    );

    const txs = await spends(t, mempool, SUBMIT_TXS);
    const bodies = txs.map((tx) => JSON.stringify({ hex: toHex(tx.encode()) }));
    const bareSubmit = await load(`${bareUrl}/txs`, {
      method: 'POST',
      ms: 60_000,
      bodies,
      expect: 202,
    });
    const apiSubmit = await load(`${apiUrl}/api/v1/txs`, {
      method: 'POST',
      ms: 60_000,
      bodies,
      expect: 202,
    });
    if (apiSubmit.failures > 0)
      throw new Error(`api bench: ${apiSubmit.failures} submissions were refused`);
    results.push(
      {
        suite: SUITE,
        name: 'bare Fastify POST, same bodies (baseline)',
        value: bareSubmit.rate,
        unit: 'req/s',
      },
      {
        suite: SUITE,
        name: `POST /api/v1/txs, ${SUBMIT_TXS} signed txs (auth + rate limit on)`,
        value: apiSubmit.rate,
        unit: 'tx/s',
        ratio: apiSubmit.rate / bareSubmit.rate,
        baselineName: 'bare Fastify POST',
      },
      { suite: SUITE, name: 'POST /api/v1/txs p99 latency', value: apiSubmit.p99Ms, unit: 'ms' },
    );
  } finally {
    await api.close();
    await plain.close();
    await bare.close();
    await auth.close();
    await t.destroy();
    rmSync(configDir, { recursive: true, force: true });
  }
  return results;
}
