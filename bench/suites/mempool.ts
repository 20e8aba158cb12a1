/**
 * Mempool: admission rate of signed single-input transactions with a verifier
 * that really verifies (native libsecp256k1 when it loaded, else WASM, and the
 * pure-JS reference), the same admission with every signature already in the
 * cache (what the pool itself costs), and block-template building from a big
 * pool. Ratios compare against the raw verify rate measured in this run.
 */
import type { BatchVerifier } from '../../src/consensus/signatures.ts';
import { signatureJobs } from '../../src/consensus/tx-rules.ts';
import { bestVerifier, nobleVerifier, type SignatureVerifier } from '../../src/crypto/verifier.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import {
  MemoryChain,
  MemorySignatureCache,
  outputsOf,
  realBatchVerifier,
  spend,
  TestKey,
  testChainIdHash,
  testMempool,
} from '../../test/support/mempool-fixture.ts';
import { type BenchResult, measureRate, timeOnce } from '../lib.ts';

const SUITE = 'mempool';
const SIGNED_TXS = 2000;
const NOBLE_TXS = 150;
/** A pool this big (16 MiB of transactions, ~80k) is filled until it first evicts. */
const TEMPLATE_POOL_BYTES = 16 * 1024 * 1024;
const BLOCK_BYTES = 2 * 1024 * 1024;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Admissions per second of `txs` into a fresh pool over `chain`, median of `runs`. */
async function admissionRate(
  chain: MemoryChain,
  txs: readonly Transaction[],
  setup: { verifier: BatchVerifier; cache: () => MemorySignatureCache },
  runs: number,
): Promise<number> {
  const rates: number[] = [];
  for (let run = 0; run < runs; run++) {
    const { mempool } = testMempool({}, { chain, verifier: setup.verifier, cache: setup.cache() });
    const ms = await timeOnce(async () => {
      for (const tx of txs) await mempool.add(tx);
    });
    if (mempool.size !== txs.length) throw new Error('mempool bench: a transaction was rejected');
    rates.push(txs.length / (ms / 1000));
  }
  return median(rates);
}

export async function run(): Promise<BenchResult[]> {
  const keys = Array.from({ length: 16 }, (_, i) => new TestKey(i));
  const chain = new MemoryChain();
  const txs: Transaction[] = [];
  for (let i = 0; i < SIGNED_TXS; i++) {
    const coin = chain.fund(keys[i % keys.length]!, 1_000_000n);
    txs.push(spend([coin], 1000n + BigInt(i)));
  }

  const fast: SignatureVerifier = bestVerifier();
  const jobs = txs.map((tx, i) => {
    const coin = { amount: 1_000_000n, lock: keys[i % keys.length]!.lock };
    return signatureJobs(tx, [coin], testChainIdHash)[0]!;
  });
  let next = 0;
  const rawVerify = await measureRate(() => {
    const job = jobs[next++ % jobs.length]!;
    if (!fast.verify(job.msg, job.sig, job.pub)) throw new Error('mempool bench: bad signature');
  });

  const fastRate = await admissionRate(
    chain,
    txs,
    { verifier: realBatchVerifier(fast), cache: () => new MemorySignatureCache() },
    3,
  );
  const nobleRate = await admissionRate(
    chain,
    txs.slice(0, NOBLE_TXS),
    { verifier: realBatchVerifier(nobleVerifier), cache: () => new MemorySignatureCache() },
    1,
  );
  // Warm the cache once, then admit into fresh pools sharing it: no ECDSA at all.
  const warm = new MemorySignatureCache();
  await admissionRate(chain, txs, { verifier: realBatchVerifier(fast), cache: () => warm }, 1);
  const cachedRate = await admissionRate(
    chain,
    txs,
    { verifier: realBatchVerifier(fast), cache: () => warm },
    5,
  );

  // Template building from a big pool: half lone transactions, half CPFP
  // pairs (cheap parent, generous child), varied fee rates. Filled unsigned
  // through a verifier that waves signatures through: a template never looks
  // at them, and signing 80k transactions would take longer than the suite.
  const acceptAll: BatchVerifier = { verifyBatch: async (j) => j.map(() => true) };
  const big = testMempool(
    { maxBytes: TEMPLATE_POOL_BYTES },
    { verifier: acceptAll, cache: new MemorySignatureCache() },
  );
  const holder = keys[0]!;
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed;
  };
  for (let i = 0; big.mempool.stats.evicted === 0; i++) {
    const coin = big.chain.fund(holder, 10_000_000n);
    if (i % 2 === 0) {
      await big.mempool.add(
        spend([coin], 300n + BigInt(random() % 20_000), { outputs: 1 + (i % 3), sign: false }),
      );
    } else {
      const parent = spend([coin], 200n, { sign: false });
      const child = spend([outputsOf(parent, holder)[0]!], 500n + BigInt(random() % 40_000), {
        sign: false,
      });
      await big.mempool.add(parent);
      await big.mempool.add(child);
    }
  }
  const templateTimes: number[] = [];
  let template = big.mempool.blockTemplate({ maxBytes: BLOCK_BYTES });
  for (let i = 0; i < 5; i++) {
    templateTimes.push(
      await timeOnce(() => {
        template = big.mempool.blockTemplate({ maxBytes: BLOCK_BYTES });
      }),
    );
  }
  const poolTxs = big.mempool.size;
  const poolMb = (big.mempool.bytes / 2 ** 20).toFixed(1);
  const block = big.chain.connect(template.txs);
  const removeMs = await timeOnce(() => big.mempool.removeForBlock(block));
  if (big.mempool.size !== poolTxs - template.txs.length) throw new Error('mempool bench: removal');

  const rawName = `ECDSA verify, ${fast.name} (baseline)`;
  return [
    { suite: SUITE, name: rawName, value: rawVerify, unit: 'verify/s' },
    {
      suite: SUITE,
      name: `admission, 1-input signed tx, ${fast.name} verifier`,
      value: fastRate,
      unit: 'tx/s',
      ratio: fastRate / rawVerify,
      baselineName: rawName,
      // Signature checking should dominate: the pool may add at most as much again.
      goal: { value: 0.5, better: 'higher' },
    },
    {
      suite: SUITE,
      name: 'admission, 1-input signed tx, noble verifier',
      value: nobleRate,
      unit: 'tx/s',
      ratio: nobleRate / rawVerify,
      baselineName: rawName,
    },
    {
      suite: SUITE,
      name: 'admission, signatures pre-cached (pool cost only)',
      value: cachedRate,
      unit: 'tx/s',
      ratio: cachedRate / rawVerify,
      baselineName: rawName,
    },
    {
      suite: SUITE,
      name: `block template (2 MiB) from a full pool, ${poolTxs} txs (${poolMb} MiB)`,
      value: median(templateTimes),
      unit: 'ms',
    },
    {
      suite: SUITE,
      name: `removeForBlock, ${template.txs.length}-tx block`,
      value: removeMs,
      unit: 'ms',
    },
  ];
}
