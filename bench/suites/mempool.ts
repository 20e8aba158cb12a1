/**
 * Mempool: admission rate of signed single-input transactions with a verifier
 * that really verifies (native libsecp256k1 when it loaded, else WASM, and the
 * pure-JS reference), the same admission with every signature already in the
 * cache (what the pool itself costs), and block-template building from a big
 * pool. Ratios compare against the raw verify rate measured in this run.
 */
import type { BatchVerifier } from '../../src/consensus/signatures.ts';
import { signatureJobs } from '../../src/consensus/tx-rules.ts';
import { CoalescingVerifier } from '../../src/crypto/coalescing-verifier.ts';
import { bestVerifier, nobleVerifier, type SignatureVerifier } from '../../src/crypto/verifier.ts';
import { ParallelVerifier } from '../../src/crypto/verify-pool.ts';
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
import {
  alternate,
  type BenchResult,
  median,
  pairedRatio,
  percentile,
  size,
  spreadOf,
  timeOnce,
} from '../lib.ts';

const SUITE = 'mempool';
const SIGNED_TXS = size(2000, 400);
const NOBLE_TXS = size(150, 20);
const ROUNDS = size(5, 2);
/** Admissions in flight at once in the stream variant, as gossip and the API deliver them. */
const IN_FLIGHT = 64;
const LONE_TXS = size(50, 10);
/** A pool this big (16 MiB of transactions, ~80k) is filled until it first evicts. */
const TEMPLATE_POOL_BYTES = size(16, 2) * 1024 * 1024;
const BLOCK_BYTES = 2 * 1024 * 1024;

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

/**
 * Admissions per second of `txs` into a fresh pool, up to IN_FLIGHT at a time
 * (as gossip and API requests arrive), signatures through the coalescer.
 */
async function streamRate(
  chain: MemoryChain,
  txs: readonly Transaction[],
  coalescer: CoalescingVerifier,
): Promise<number> {
  const { mempool } = testMempool(
    {},
    { chain, verifier: coalescer, cache: new MemorySignatureCache() },
  );
  let next = 0;
  const lane = async () => {
    while (next < txs.length) await mempool.add(txs[next++]!);
  };
  const ms = await timeOnce(() => Promise.all(Array.from({ length: IN_FLIGHT }, lane)));
  if (mempool.size !== txs.length) throw new Error('mempool bench: a streamed tx was rejected');
  return txs.length / (ms / 1000);
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
  const rawOnce = () => {
    const started = performance.now();
    for (const job of jobs) {
      if (!fast.verify(job.msg, job.sig, job.pub)) throw new Error('mempool bench: bad signature');
    }
    return jobs.length / ((performance.now() - started) / 1000);
  };
  const pool = await ParallelVerifier.init({ workers: 2 });
  const coalescer = new CoalescingVerifier({}, { pool });
  let rounds: Record<'raw' | 'inline' | 'stream', number[]>;
  let latency: { inline: number[]; coalesced: number[] };
  let meanBatch: number;
  try {
    rounds = await alternate(ROUNDS, {
      raw: rawOnce,
      inline: () =>
        admissionRate(
          chain,
          txs,
          { verifier: realBatchVerifier(fast), cache: () => new MemorySignatureCache() },
          1,
        ),
      stream: () => streamRate(chain, txs, coalescer),
    });
    meanBatch = coalescer.stats.jobs / coalescer.stats.batches;
    // A lone transaction (nothing else arriving): what batching adds to its admission.
    latency = { inline: [], coalesced: [] };
    for (let i = 0; i < LONE_TXS; i++) {
      const tx = txs[i]!;
      for (const [name, verifier] of [
        ['inline', realBatchVerifier(fast)],
        ['coalesced', coalescer],
      ] as const) {
        const { mempool } = testMempool({}, { chain, verifier, cache: new MemorySignatureCache() });
        latency[name].push(await timeOnce(() => mempool.add(tx)));
      }
    }
  } finally {
    await pool.close();
  }
  const rawVerify = median(rounds.raw);
  const fastRate = median(rounds.inline);
  const streamMedian = median(rounds.stream);
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
    {
      suite: SUITE,
      name: rawName,
      value: rawVerify,
      unit: 'verify/s',
      spread: spreadOf(rounds.raw),
    },
    {
      suite: SUITE,
      name: `admission, 1-input signed tx, one at a time, ${fast.name} inline`,
      value: fastRate,
      unit: 'tx/s',
      ...pairedRatio(rounds.inline, rounds.raw),
      baselineName: rawName,
      // Signature checking should dominate: the pool may add at most as much again.
      goal: { value: 0.5, better: 'higher' },
    },
    {
      suite: SUITE,
      name: `admission stream, ${IN_FLIGHT} in flight, coalesced into 2 workers`,
      value: streamMedian,
      unit: 'tx/s',
      ...pairedRatio(rounds.stream, rounds.raw),
      baselineName: rawName,
      goal: { value: 1.2, better: 'higher' },
    },
    {
      suite: SUITE,
      name: '  same, mean signatures per pool batch',
      value: meanBatch,
      unit: 'sigs',
    },
    {
      suite: SUITE,
      name: 'lone tx admission latency, inline verify (p50)',
      value: median(latency.inline),
      unit: 'ms',
    },
    {
      suite: SUITE,
      name: 'lone tx admission latency, coalesced via workers (p50)',
      value: median(latency.coalesced),
      unit: 'ms',
    },
    {
      suite: SUITE,
      name: 'lone tx admission latency, coalesced via workers (p90)',
      value: percentile(
        [...latency.coalesced].sort((a, b) => a - b),
        90,
      ),
      unit: 'ms',
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
