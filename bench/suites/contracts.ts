/**
 * Contracts: warm call latency, deploy (validate + rewrite) cost, the
 * instrumented/uninstrumented run-time ratio of the same code, and calls per
 * second as a block would run them (storage reads and writes included).
 */
import ivm from 'isolated-vm';
import {
  type ContractPayload,
  contractId,
  encodeContractPayload,
  pubkeyLock,
  Transaction,
} from '../../src/primitives/index.ts';
import { StateOverlay, type StateReader } from '../../src/state/index.ts';
import {
  ContractBlock,
  ContractRuntime,
  ContractSandbox,
  compileContract,
  DEFAULT_CONTRACT_PARAMS,
  VmLimits,
} from '../../src/vm/index.ts';
import {
  alternate,
  type BenchResult,
  measureRate,
  median,
  pairedRatio,
  percentile,
  size,
} from '../lib.ts';

const context = { contract: 'c0ffee', caller: 'alice', height: 1, time: 0 };
const noStorage = { get: () => null };

const WORK = `
export function work(ctx, n) {
  let acc = 0;
  const xs = [];
  for (let i = 0; i < n; i++) {
    acc = (acc * 31 + i) % 1000003;
    if (i % 16 === 0) xs.push(acc);
  }
  return acc + xs.length;
}`;

export async function run(): Promise<BenchResult[]> {
  const sandbox = new ContractSandbox();
  const results: BenchResult[] = [];
  try {
    const small = compileContract('export function inc(ctx, a) { return a + 1; }');
    const call = () =>
      sandbox.call({
        contract: small,
        method: 'inc',
        args: [1],
        gasLimit: 10_000,
        context,
        storage: noStorage,
      });
    for (let i = 0; i < 50; i++) call();
    // Medians of several rounds, so the spread says how stable the figure is on a busy machine.
    const roundMedians: number[] = [];
    const latencies: number[] = [];
    for (let round = 0; round < size(5, 3); round++) {
      const these: number[] = [];
      for (let i = 0; i < size(200, 100); i++) {
        const start = process.hrtime.bigint();
        call();
        these.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
      these.sort((a, b) => a - b);
      roundMedians.push(median(these));
      latencies.push(...these);
    }
    latencies.sort((a, b) => a - b);
    roundMedians.sort((a, b) => a - b);
    const latency = median(latencies);
    results.push({
      suite: 'contracts',
      name: 'warm call of a small method, median',
      value: latency,
      unit: 'ms',
      goal: { value: 0.5, better: 'lower' },
      spread: (roundMedians.at(-1)! - roundMedians[0]!) / latency,
    });
    results.push({
      suite: 'contracts',
      name: 'warm call of a small method, p99',
      value: percentile(latencies, 99),
      unit: 'ms',
    });
    // What a block pays: the same call with state-store-style asynchronous reads.
    const asyncLatencies: number[] = [];
    for (let i = 0; i < size(300, 100); i++) {
      const start = process.hrtime.bigint();
      await sandbox.callAsync({
        contract: small,
        method: 'inc',
        args: [1],
        gasLimit: 10_000,
        context,
        storage: { get: async () => null },
      });
      asyncLatencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    asyncLatencies.sort((a, b) => a - b);
    results.push({
      suite: 'contracts',
      name: 'warm call of a small method, async storage, median',
      value: median(asyncLatencies),
      unit: 'ms',
    });
    // The cost warm contexts avoid: the runtime installed in a new context per call.
    const cold = new ContractSandbox({ warmContexts: false });
    const coldLatencies: number[] = [];
    for (let i = 0; i < size(40, 15); i++) {
      const start = process.hrtime.bigint();
      cold.call({
        contract: small,
        method: 'inc',
        args: [1],
        gasLimit: 10_000,
        context,
        storage: noStorage,
      });
      coldLatencies.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    cold.dispose();
    coldLatencies.sort((a, b) => a - b);
    results.push({
      suite: 'contracts',
      name: 'call in a fresh context per call (before warm contexts), median',
      value: median(coldLatencies),
      unit: 'ms',
    });

    const source = Array.from(
      { length: 40 },
      (_, i) =>
        `export function m${i}(ctx, x) { let s = 0; for (let j = 0; j < x; j++) { s += j * ${i}; } return s; }`,
    ).join('\n');
    const deploys = await measureRate(() => compileContract(source), { minMs: size(1000, 200) });
    results.push({
      suite: 'contracts',
      name: `deploy (validate + rewrite) of a ${(source.length / 1024).toFixed(1)} KiB module`,
      value: 1000 / deploys,
      unit: 'ms',
    });

    // The same loop with and without instrumentation, in the same kind of isolate.
    const n = size(200_000, 50_000);
    const instrumented = compileContract(WORK);
    // Both sides reuse one context, as warm calls do, so the ratio is the metering alone.
    const raw = new ivm.Isolate({ memoryLimit: VmLimits.isolateMemoryMb });
    const rawContext = raw.createContextSync();
    raw.compileScriptSync(`${WORK.replace('export function', 'function')}`).runSync(rawContext);
    const rawWork = rawContext.global.getSync('work', { reference: true }) as ivm.Reference<
      (ctx: null, n: number) => number
    >;
    const rounds = await alternate(size(5, 3), {
      raw: () =>
        measureRate(() => rawWork.applySync(undefined, [null, n]), { minMs: size(500, 150) }),
      metered: () =>
        measureRate(
          () =>
            sandbox.call({
              contract: instrumented,
              method: 'work',
              args: [n],
              gasLimit: VmLimits.maxCallGas,
              context,
              storage: noStorage,
            }),
          { minMs: size(500, 150) },
        ),
    });
    raw.dispose();
    const { ratio, spread } = pairedRatio(rounds.raw, rounds.metered);
    results.push({
      suite: 'contracts',
      name: `run time, instrumented vs uninstrumented (${n} iterations)`,
      value: ratio,
      unit: 'x slower',
      ratio,
      baselineName: 'the same code without gas',
      spread,
    });

    const counter = compileContract(
      `export function add(ctx, by) { const n = ctx.storage.get('n') ?? 0; ctx.storage.set('n', n + by); ctx.emit('added', { by }); return n + by; }`,
    );
    const store = new Map<string, string>();
    const calls = await measureRate(
      () => {
        const r = sandbox.call({
          contract: counter,
          method: 'add',
          args: [1],
          gasLimit: 50_000,
          context,
          storage: { get: (k) => store.get(k) ?? null },
        });
        if (r.ok) for (const [k, v] of r.writes) if (v !== null) store.set(k, v);
      },
      { minMs: size(1000, 200) },
    );
    results.push({
      suite: 'contracts',
      name: 'calls per second in a block (storage read, write, event)',
      value: calls,
      unit: 'calls/s',
    });
    results.push(...(await blockFigures()));
  } finally {
    sandbox.dispose();
  }
  return results;
}

/** Through ContractBlock, as a node validates a block: asynchronous state reads, overlays. */
async function blockFigures(): Promise<BenchResult[]> {
  const runtime = new ContractRuntime();
  const empty: StateReader = { get: async () => undefined, async *entries() {} };
  const overlay = new StateOverlay(empty);
  let n = 0;
  const tx = (payload: ContractPayload) => {
    n++;
    const txid = new Uint8Array(32);
    new DataView(txid.buffer).setUint32(0, n);
    return {
      tx: new Transaction({
        version: 1,
        inputs: [{ prevout: { txid, index: 0 } }],
        outputs: [{ amount: 1000n, lock: pubkeyLock(new Uint8Array(33).fill(2)) }],
        lockTime: 0,
        payload: encodeContractPayload(payload),
        witnesses: [
          { publicKey: new Uint8Array(33).fill(2), signature: new Uint8Array(64).fill(1) },
        ],
      }),
      spent: [
        {
          amount: 10n ** 9n,
          lock: pubkeyLock(new Uint8Array(33).fill(2)),
          height: 1,
          coinbase: false,
        },
      ],
    };
  };
  const source = new TextEncoder().encode(
    `export function add(ctx, by) { const n = ctx.storage.get('n') ?? 0; ctx.storage.set('n', n + by); ctx.emit('added', { by }); return n + by; }
export function burn(ctx) { let x = 0; for (;;) { x = (x * 31 + 7) % 1000003; } }`,
  );
  const newBlock = () =>
    new ContractBlock({ height: 1, time: 0, hrp: 'utxbench' }, { overlay, runtime });
  const deploy = tx({
    kind: 'deploy',
    gasLimit: 200_000,
    gasPrice: 1n,
    code: source,
    args: new Uint8Array(0),
  });
  await newBlock().applyTx(deploy.tx, deploy.spent);
  const id = contractId(deploy.tx.txid);
  const args = new TextEncoder().encode('[1]');
  const results: BenchResult[] = [];
  try {
    const calls = await measureRate(
      async () => {
        const call = tx({
          kind: 'call',
          contractId: id,
          gasLimit: 50_000,
          gasPrice: 1n,
          method: 'add',
          args,
        });
        await newBlock().applyTx(call.tx, call.spent);
      },
      { minMs: size(1000, 200) },
    );
    results.push({
      suite: 'contracts',
      name: 'calls per second through ContractBlock (state overlay, async reads)',
      value: calls,
      unit: 'calls/s',
    });
    // The worst block: every call burns the most gas a call may use, up to the block gas limit.
    const worst = DEFAULT_CONTRACT_PARAMS.blockGasLimit / VmLimits.maxCallGas;
    const burns = Array.from({ length: worst }, () =>
      tx({
        kind: 'call',
        contractId: id,
        gasLimit: VmLimits.maxCallGas,
        gasPrice: 1n,
        method: 'burn',
        args: new TextEncoder().encode('[]'),
      }),
    );
    const start = process.hrtime.bigint();
    const block = newBlock();
    for (const b of burns) await block.applyTx(b.tx, b.spent);
    results.push({
      suite: 'contracts',
      name: `a block of ${worst} calls that each burn ${VmLimits.maxCallGas} gas (the block gas limit)`,
      value: Number(process.hrtime.bigint() - start) / 1e6,
      unit: 'ms',
    });
  } finally {
    runtime.dispose();
  }
  return results;
}
