/**
 * Block validation and connect on a real chain (LevelDB in a temp directory):
 * a block of 5,000 signed inputs, validated with signatures checked inline,
 * in worker threads, and from a warm signature cache; and the connect rate
 * against raw LevelDB batch puts measured in the same run.
 */
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
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { Transaction, TX_VERSION } from '../../src/primitives/transaction.ts';
import {
  CHAIN_ID,
  genesisCoins,
  openTestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import type { BenchResult } from '../lib.ts';

const INPUTS = 5_000;
const INPUTS_PER_TX = 100;

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
    const rawRate = await median(3, async () => {
      const started = performance.now();
      for (const job of jobs) native.verify(job.msg, job.sig, job.pub);
      return jobs.length / ((performance.now() - started) / 1000);
    });
    results.push({
      suite: 'block',
      name: 'raw native verify, 1 core (baseline)',
      value: rawRate,
      unit: 'sig/s',
    });

    const validate = (checker: SignatureChecker) => async () => {
      const started = performance.now();
      await planBlockConnect(block, commit, { ...t.chain.blockContext(null), signatures: checker });
      return INPUTS / ((performance.now() - started) / 1000);
    };
    const inline = await ParallelVerifier.init({ workers: 0 });
    const inlineRate = await median(
      3,
      validate(new SignatureChecker({ verifier: inline, cache: null })),
    );
    await inline.close();
    results.push({
      suite: 'block',
      name: 'validate 5,000-input block, signatures inline',
      value: inlineRate,
      unit: 'inputs/s',
      ratio: inlineRate / rawRate,
      baselineName: 'raw native verify, 1 core',
    });
    const parallelRate = await median(
      3,
      validate(new SignatureChecker({ verifier: pool, cache: null })),
    );
    results.push({
      suite: 'block',
      name: `validate 5,000-input block, ${workers} verify workers`,
      value: parallelRate,
      unit: 'inputs/s',
      ratio: parallelRate / rawRate,
      baselineName: 'raw native verify, 1 core',
      goal: { value: 1.6, better: 'higher' },
    });
    const cache = new SignatureCache({ maxEntries: 100_000 });
    const cached = new SignatureChecker({ verifier: pool, cache });
    await validate(cached)();
    const cachedRate = await median(3, validate(cached));
    results.push({
      suite: 'block',
      name: 'validate 5,000-input block, signatures cached',
      value: cachedRate,
      unit: 'inputs/s',
      ratio: cachedRate / rawRate,
      baselineName: 'raw native verify, 1 core',
    });

    // Connect (validate + one atomic batch) vs raw LevelDB batch puts of as many records.
    const connectMs = await connectTimes(t, block, commit);
    const opsPerBlock =
      INPUTS + block.txs.reduce((n, tx) => n + tx.outputs.length, 0) + block.txs.length + 5;
    const rawPutRate = await rawBatchPutRate(opsPerBlock);
    results.push({
      suite: 'block',
      name: 'raw LevelDB batch put, 36-byte keys (baseline)',
      value: rawPutRate,
      unit: 'puts/s',
    });
    const connectRate = opsPerBlock / (connectMs / 1000);
    results.push({
      suite: 'block',
      name: `connect 5,000-input block (cached sigs), ${opsPerBlock} records`,
      value: connectRate,
      unit: 'records/s',
      ratio: connectRate / rawPutRate,
      baselineName: 'raw LevelDB batch put',
    });
    results.push({
      suite: 'block',
      name: 'connect 5,000-input block (cached sigs), wall time',
      value: connectMs,
      unit: 'ms',
    });
    // What connect adds on top of validation: the atomic batch write and cache update.
    const writeMs = Math.max(0.001, connectMs - (INPUTS / cachedRate) * 1000);
    const writeRate = opsPerBlock / (writeMs / 1000);
    results.push({
      suite: 'block',
      name: `connect minus validation (batch write + cache), ${opsPerBlock} records`,
      value: writeRate,
      unit: 'records/s',
      ratio: writeRate / rawPutRate,
      baselineName: 'raw LevelDB batch put',
    });
  } finally {
    await pool.close();
    await t.destroy();
  }
  return results;

  async function connectTimes(
    tc: typeof t,
    block: Block,
    commit: ReturnType<typeof t.commitFor>,
  ): Promise<number> {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const started = performance.now();
      await tc.chain.connectBlock(block, commit, { now: null });
      times.push(performance.now() - started);
      await tc.chain.disconnectTip();
    }
    return times.sort((a, b) => a - b)[1]!;
  }
}

async function median(runs: number, fn: () => Promise<number>): Promise<number> {
  const values: number[] = [];
  for (let i = 0; i < runs; i++) values.push(await fn());
  return values.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

async function rawBatchPutRate(count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-bench-level-'));
  const db = new Level<Uint8Array, Uint8Array>(dir, { keyEncoding: 'view', valueEncoding: 'view' });
  await db.open();
  try {
    const value = new Uint8Array(46);
    return await median(3, async () => {
      const ops = Array.from({ length: count }, () => ({
        type: 'put' as const,
        key: crypto.getRandomValues(new Uint8Array(37)),
        value,
      }));
      const started = performance.now();
      await db.batch(ops);
      return count / ((performance.now() - started) / 1000);
    });
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
