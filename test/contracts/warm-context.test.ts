import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  ContractEngineError,
  ContractSandbox,
  compileContract,
  VmLimits,
} from '../../src/vm/index.ts';
import {
  callOnce,
  fingerprint,
  MemoryContractStorage,
  testContext,
} from '../support/contract-fixture.ts';

const warm = new ContractSandbox();
const fresh = new ContractSandbox({ warmContexts: false });
after(() => {
  warm.dispose();
  fresh.dispose();
});

// Tries to leave something behind for the next call in every place a contract
// can name; `probe` reports what it finds. A warm context must look new.
const TAINT = `
let calls = 0;
const seen = [];
export function taint(ctx) {
  calls++;
  seen.push(calls);
  const tried = [];
  const attempts = [
    () => { ctx.storage.get.mark = 1; },
    () => { ctx.storage.mark = 1; },
    () => { ctx.emit.mark = 1; },
    () => { parseInt.mark = 1; },
    () => { isNaN.mark = 1; },
    () => { Math.mark = 1; },
    () => { JSON.mark = 1; },
    () => { Object.mark = 1; },
    () => { Array.isArray.mark = 1; },
    () => { String.mark = 1; },
    () => { mark = 1; },
  ];
  for (let i = 0; i < attempts.length; i++) {
    try { attempts[i](); tried.push(i); } catch (e) { tried.push(-1); }
  }
  return { calls, seen: seen.length, tried };
}
export function probe(ctx) {
  return {
    calls,
    seen: seen.length,
    marks: [
      ctx.storage.get.mark ?? null, ctx.storage.mark ?? null, ctx.emit.mark ?? null,
      parseInt.mark ?? null, isNaN.mark ?? null, Math.mark ?? null, JSON.mark ?? null,
      Object.mark ?? null, Array.isArray.mark ?? null, String.mark ?? null,
    ],
  };
}
export function deep(ctx, n) { return n === 0 ? 0 : 1 + deep(ctx, n - 1); }
export function burn(ctx) { let x = 0; for (;;) { x++; } }
export function counter(ctx, by) {
  const n = ctx.storage.get('n') ?? 0;
  ctx.storage.set('n', n + by);
  ctx.emit('added', { by, n });
  return n + by;
}
`;

describe('warm contexts', () => {
  const contract = compileContract(TAINT);

  test('a call sees nothing an earlier call tried to leave behind', () => {
    for (let i = 0; i < 3; i++) {
      const t = callOnce(warm, contract, 'taint');
      assert.ok(t.ok);
      // Module bindings start afresh and every mutation of shared objects failed.
      assert.deepEqual(t.value, { calls: 1, seen: 1, tried: Array(11).fill(-1) });
      const p = callOnce(warm, contract, 'probe');
      assert.ok(p.ok);
      assert.deepEqual(p.value, { calls: 0, seen: 0, marks: Array(10).fill(null) });
    }
  });

  test('sequences with faults give byte-identical results in warm and fresh contexts', () => {
    const sequence: Array<[string, unknown[], number]> = [
      ['deep', [10], 100_000],
      ['deep', [100], 100_000], // too deep: the depth counter must be reset afterwards
      ['deep', [10], 100_000],
      ['burn', [], 5_000], // out of gas: sticky fault must not leak into the next call
      ['counter', [2], 50_000],
      ['taint', [], 100_000],
      ['counter', [3], 50_000],
      ['probe', [], 100_000],
    ];
    const run = (sandbox: ContractSandbox) => {
      const storage = new MemoryContractStorage();
      return sequence.map(([method, args, gasLimit]) => {
        const result = callOnce(sandbox, contract, method, args as never, { storage, gasLimit });
        storage.commit(result);
        return fingerprint(result);
      });
    };
    const fromFresh = run(fresh);
    assert.deepEqual(run(warm), fromFresh);
    assert.deepEqual(run(warm), fromFresh);
    assert.match(fromFresh[1]!, /CONTRACT_TOO_DEEP/);
    assert.match(fromFresh[3]!, /CONTRACT_OUT_OF_GAS/);
  });

  test('asynchronous storage reads give the same result as synchronous ones', async () => {
    const storage = new MemoryContractStorage();
    storage.entries.set('n', '41');
    const sync = callOnce(warm, contract, 'counter', [1], { storage, gasLimit: 50_000 });
    let reads = 0;
    const viaAsync = await warm.callAsync({
      contract,
      method: 'counter',
      args: [1],
      gasLimit: 50_000,
      context: testContext,
      storage: {
        get: async (key) => {
          reads++;
          await new Promise((resolve) => setImmediate(resolve));
          return storage.get(key);
        },
      },
    });
    assert.equal(reads, 1);
    assert.equal(fingerprint(viaAsync), fingerprint(sync));
    assert.ok(viaAsync.ok && viaAsync.value === 42);
  });

  test('more contracts than warm slots: evicted ones are rebuilt with the same results', () => {
    const small = new ContractSandbox({ maxWarmContexts: 2 });
    try {
      const contracts = [1, 2, 3].map((k) =>
        compileContract(`export function f(ctx, x) { return x * ${k}; }`),
      );
      for (let round = 0; round < 3; round++) {
        contracts.forEach((c, i) => {
          const r = callOnce(small, c, 'f', [5]);
          assert.ok(r.ok && r.value === 5 * (i + 1));
        });
      }
    } finally {
      small.dispose();
    }
  });
});

describe('asynchronous calls', () => {
  test('overlapping calls run one at a time in call order, each with its own storage', async () => {
    const sandbox = new ContractSandbox();
    try {
      const contract = compileContract(
        `export function read(ctx, k) { const a = ctx.storage.get(k); const b = ctx.storage.get(k + 'x'); return [a, b]; }`,
      );
      const order: string[] = [];
      const storage = (tag: string) => ({
        get: async (key: string) => {
          order.push(`${tag}:${key}`);
          await new Promise((resolve) => setTimeout(resolve, tag === 'a' ? 5 : 0));
          return JSON.stringify(`${tag}-${key}`);
        },
      });
      const request = (tag: string) =>
        sandbox.callAsync({
          contract,
          method: 'read',
          args: [tag],
          gasLimit: 10_000,
          context: testContext,
          storage: storage(tag),
        });
      const [a, b] = await Promise.all([request('a'), request('b')]);
      assert.ok(a.ok && b.ok);
      assert.deepEqual(a.value, ['a-a', 'a-ax']);
      assert.deepEqual(b.value, ['b-b', 'b-bx']);
      assert.deepEqual(order, ['a:a', 'a:ax', 'b:b', 'b:bx']);
      // A synchronous call meanwhile would deadlock the reads: refused.
      const pending = request('c');
      assert.throws(
        () => callOnce(sandbox, contract, 'read', ['d']),
        /asynchronous call is running/,
      );
      assert.ok((await pending).ok);
    } finally {
      sandbox.dispose();
    }
  });
});

describe('the wall-clock safety net in asynchronous calls', () => {
  test('fires as ContractEngineError, never as a result, even where the contract catches', async () => {
    const contract = compileContract(
      'export function f(ctx) { ctx.storage.get("k"); try { for (;;) {} } catch (e) { return "caught"; } }',
    );
    const tight = new ContractSandbox({ timeoutMs: 1 });
    let fired = 0;
    try {
      for (let attempt = 0; attempt < 40 && fired < 2; attempt++) {
        try {
          const result = await tight.callAsync({
            contract,
            method: 'f',
            args: [],
            gasLimit: VmLimits.maxCallGas,
            context: testContext,
            storage: { get: async () => null },
          });
          // The net is approximate and may not fire; then the result is the call's own.
          assert.ok(!result.ok && result.error.code === 'CONTRACT_OUT_OF_GAS', fingerprint(result));
        } catch (error) {
          assert.ok(error instanceof ContractEngineError, String(error));
          fired++;
        }
      }
    } finally {
      tight.dispose();
    }
    assert.equal(fired, 2);
  });
});

describe('host storage failures', () => {
  test('a failed read is a ContractEngineError even when the contract catches it, and the next call is clean', async () => {
    const contract = compileContract(
      'export function f(ctx) { try { return ctx.storage.get("k"); } catch (e) { return "caught"; } }',
    );
    const sandbox = new ContractSandbox();
    try {
      const request = { contract, method: 'f', args: [], gasLimit: 10_000, context: testContext };
      await assert.rejects(
        sandbox.callAsync({
          ...request,
          storage: {
            get: async () => {
              throw new Error('disk on fire');
            },
          },
        }),
        (error: unknown) =>
          error instanceof ContractEngineError && /disk on fire/.test(error.message),
      );
      assert.throws(
        () =>
          sandbox.call({
            ...request,
            storage: {
              get: () => {
                throw new Error('disk on fire');
              },
            },
          }),
        ContractEngineError,
      );
      const ok = await sandbox.callAsync({ ...request, storage: { get: async () => '7' } });
      assert.ok(ok.ok && ok.value === 7);
    } finally {
      sandbox.dispose();
    }
  });
});
