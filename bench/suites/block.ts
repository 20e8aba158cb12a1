/**
 * Block validation and connect on a real chain (LevelDB in a temp directory):
 * a block of 5,000 signed inputs, validated with signatures checked inline,
 * in worker threads, and from a warm signature cache; and the connect rate
 * against raw LevelDB batch puts measured in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { planBlockConnect } from '../../src/chain/block-verifier.ts';
import {
  buildTransaction,
  type SpendableCoin,
  signTransaction,
} from '../../src/client/tx-builder.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { signatureJobs } from '../../src/consensus/tx-rules.ts';
import { SignatureCache } from '../../src/crypto/sig-cache.ts';
import { nativeVerifier } from '../../src/crypto/verifier.ts';
import { ParallelVerifier } from '../../src/crypto/verify-pool.ts';
import { COIN } from '../../src/primitives/amount.ts';
import type { Block } from '../../src/primitives/block.ts';
import type { CommitCertificate } from '../../src/primitives/commit.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { Transaction, TX_VERSION } from '../../src/primitives/transaction.ts';
import {
  CHAIN_ID,
  genesisCoins,
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { alternate, type BenchResult, median, pairedRatio, size, spreadOf } from '../lib.ts';

const INPUTS = size(5_000, 1_000);
const INPUTS_PER_TX = 100;
const ROUNDS = size(5, 2);

export async function run(): Promise<BenchResult[]> {
  const validator = testKey(0);
  const owner = testKey(1);
  const genesis = testGenesis({ validator, funded: [owner], amount: 1_000_000n * COIN });
  const t = await openTestChain({ genesis, validator, cacheBytes: 64 << 20 });
  const results: BenchResult[] = [];
  const workers = Math.max(1, availableParallelism());
  const pool = await ParallelVerifier.init({ workers });
  try {
    // Fan the premine out into INPUTS coins, then build the measured block spending all of them.
    const [premine] = await genesisCoins(t.chain);
    const each = 10n * COIN;
    const fanOut = buildTransaction({
      chainId: CHAIN_ID,
      coins: [premine!],
      outputs: Array.from({ length: INPUTS }, () => ({
        amount: each,
        lock: pubkeyLock(owner.publicKey),
      })),
      changeLock: pubkeyLock(owner.publicKey),
      feeRate: 0n,
      keys: [owner],
    });
    await t.produce([fanOut]);
    const txs: Transaction[] = [];
    for (let start = 0; start < INPUTS; start += INPUTS_PER_TX) {
      const coins: SpendableCoin[] = [];
      for (let index = start; index < start + INPUTS_PER_TX; index++) {
        coins.push({
          outpoint: { txid: fanOut.txid, index },
          amount: each,
          lock: pubkeyLock(owner.publicKey),
        });
      }
      const unsigned = new Transaction({
        version: TX_VERSION,
        inputs: coins.map((c) => ({ prevout: c.outpoint })),
        outputs: [{ amount: each * BigInt(INPUTS_PER_TX), lock: pubkeyLock(testKey(2).publicKey) }],
        lockTime: 0,
        payload: null,
        witnesses: [],
      });
      txs.push(signTransaction(unsigned, coins, [owner], CHAIN_ID));
    }
    const block = await assembleBlock(t.chain, {
      txs,
      fees: 0n,
      proposer: validator.publicKey,
      rewardLock: pubkeyLock(validator.publicKey),
      time: t.chain.tip.header.time + 1000,
    });
    const commit = t.commitFor(block);

    // Baseline: raw single-core native verification of the same signatures.
    const spentOutputs = txs.map((tx) =>
      tx.inputs.map(() => ({ amount: each, lock: pubkeyLock(owner.publicKey) })),
    );
    const jobs = txs.flatMap((tx, i) => signatureJobs(tx, spentOutputs[i]!, t.chain.chainIdHash));
    const native = nativeVerifier;
    if (native === undefined) throw new Error('native libsecp256k1 backend unavailable');
    const raw = async () => {
      const started = performance.now();
      for (const job of jobs) native.verify(job.msg, job.sig, job.pub);
      return jobs.length / ((performance.now() - started) / 1000);
    };
    const validate = (checker: SignatureChecker) => async () => {
      const started = performance.now();
      await planBlockConnect(block, commit, { ...t.chain.blockContext(null), signatures: checker });
      return INPUTS / ((performance.now() - started) / 1000);
    };
    const inline = await ParallelVerifier.init({ workers: 0 });
    const cache = new SignatureCache({ maxEntries: 100_000 });
    const cached = new SignatureChecker({ verifier: pool, cache });
    await validate(cached)();
    const opsPerBlock =
      INPUTS + block.txs.reduce((n, tx) => n + tx.outputs.length, 0) + block.txs.length + 5;
    const level = await openRawLevel();
    const rounds = await alternate(ROUNDS, {
      raw,
      inline: validate(new SignatureChecker({ verifier: inline, cache: null })),
      pool: validate(new SignatureChecker({ verifier: pool, cache: null })),
      cached: validate(cached),
      rawPut: () => level.batchPutRate(opsPerBlock),
      write: async () => opsPerBlock / ((await writePhaseMs(t, block, commit, cached)) / 1000),
    });
    await level.close();

    const rawName = 'raw native verify, 1 core';
    const vsRaw = (name: string, samples: number[], goal?: number): BenchResult => ({
      suite: 'block',
      name,
      value: median(samples),
      unit: 'inputs/s',
      ...pairedRatio(samples, rounds.raw),
      baselineName: rawName,
      ...(goal === undefined ? {} : { goal: { value: goal, better: 'higher' as const } }),
    });
    const n = INPUTS.toLocaleString('en-US');
    results.push(
      {
        suite: 'block',
        name: `${rawName} (baseline)`,
        value: median(rounds.raw),
        unit: 'sig/s',
        spread: spreadOf(rounds.raw),
      },
      vsRaw(`validate ${n}-input block, signatures inline`, rounds.inline),
      vsRaw(`validate ${n}-input block, ${workers} verify workers`, rounds.pool, 1.6),
      vsRaw(`validate ${n}-input block, signatures cached`, rounds.cached),
      {
        suite: 'block',
        name: 'raw LevelDB batch put, 37-byte keys (baseline)',
        value: median(rounds.rawPut),
        unit: 'puts/s',
        spread: spreadOf(rounds.rawPut),
      },
      {
        suite: 'block',
        name: `connect write phase (batch + cache update), ${opsPerBlock} records`,
        value: median(rounds.write),
        unit: 'records/s',
        ...pairedRatio(rounds.write, rounds.rawPut),
        baselineName: 'raw LevelDB batch put',
        goal: { value: 0.3, better: 'higher' },
      },
    );

    // The same validation while another process keeps one core busy: the
    // pool must not fall below what the calling thread manages alone.
    const competitor = startCompetitor();
    try {
      const busy = await alternate(ROUNDS, {
        raw,
        inline: validate(new SignatureChecker({ verifier: inline, cache: null })),
        pool: validate(new SignatureChecker({ verifier: pool, cache: null })),
      });
      results.push(
        vsRaw(`validate ${n}-input block, inline, CPU competitor running`, busy.inline),
        vsRaw(`validate ${n}-input block, ${workers} workers, CPU competitor running`, busy.pool),
        {
          suite: 'block',
          name: `  same, ${workers} workers vs inline (both with the competitor)`,
          value: median(busy.pool),
          unit: 'inputs/s',
          ...pairedRatio(busy.pool, busy.inline),
          baselineName: 'inline with the competitor',
          goal: { value: 1, better: 'higher' },
        },
      );
    } finally {
      competitor.kill();
    }
    await inline.close();
  } finally {
    await pool.close();
    await t.destroy();
  }
  return results;
}

/**
 * The write phase of connect alone: the atomic batch and the cache update,
 * after validation (with cached signatures) has produced the plan. The chain
 * is left as it was (the block is disconnected again).
 */
async function writePhaseMs(
  t: TestChain,
  block: Block,
  commit: CommitCertificate,
  signatures: SignatureChecker,
): Promise<number> {
  const plan = await planBlockConnect(block, commit, { ...t.chain.blockContext(null), signatures });
  const started = performance.now();
  await t.chain['commitPlan'](plan);
  const ms = performance.now() - started;
  await t.chain.disconnectTip();
  return ms;
}

/** A child process spinning on one core for at most two minutes (killed when done). */
function startCompetitor(): { kill(): void } {
  const child = spawn(
    process.execPath,
    ['-e', 'const end = Date.now() + 120000; while (Date.now() < end);'],
    { stdio: 'ignore' },
  );
  return { kill: () => child.kill() };
}

/** A scratch LevelDB measuring raw batch puts of `count` fresh 37-byte keys. */
async function openRawLevel(): Promise<{
  batchPutRate(count: number): Promise<number>;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-bench-level-'));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  const value = new Uint8Array(46);
  return {
    async batchPutRate(count) {
      const ops = Array.from({ length: count }, () => ({
        type: 'put' as const,
        key: crypto.getRandomValues(new Uint8Array(37)),
        value,
      }));
      const started = performance.now();
      await db.batch(ops);
      return count / ((performance.now() - started) / 1000);
    },
    async close() {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
