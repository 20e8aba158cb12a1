import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import {
  ContractPayloadType,
  contractId,
  contractLock,
  lockToAddress,
  pubkeyLock,
} from '../../src/primitives/index.ts';
import { StateKeys } from '../../src/state/index.ts';
import { toHex } from '../../src/util/index.ts';
import {
  ContractRuleError,
  ContractRuntime,
  DEFAULT_CONTRACT_PARAMS,
  deployGas,
  queryContract,
  readContractRecord,
  storageReader,
} from '../../src/vm/index.ts';
import {
  argsBytes,
  ContractHarness,
  codeBytes,
  contractCoin,
  contractTx,
  HRP,
  testKey,
} from '../support/contract-chain.ts';
import { rollbackOne } from '../support/state-fixture.ts';

const COUNTER = `
export function init(ctx, start) {
  ctx.storage.set('n', start);
  ctx.storage.set('owner', ctx.caller);
  ctx.emit('created', { start });
}
export function add(ctx, by) {
  const n = ctx.storage.get('n');
  ctx.storage.set('n', n + by);
  ctx.emit('added', { by });
  if (by === 13) throw new Error('unlucky');
  return n + by;
}
export function get(ctx) { return ctx.storage.get('n'); }
export function poke(ctx) { ctx.storage.set('n', 0); }
export function burn(ctx) { ctx.storage.set('n', -1); for (;;) {} }
`;

const alice = testKey('alice').publicKey;
const aliceAddress = lockToAddress(pubkeyLock(alice), HRP);

function deployTx(source: string, args: string, gasLimit = 200_000) {
  return contractTx({
    payload: {
      kind: 'deploy',
      gasLimit,
      gasPrice: 2n,
      code: codeBytes(source),
      args: argsBytes(args),
    },
  });
}

function callTx(id: Uint8Array, method: string, args: string, gasLimit = 50_000, gasPrice = 3n) {
  return contractTx({
    payload: { kind: 'call', contractId: id, gasLimit, gasPrice, method, args: argsBytes(args) },
  });
}

async function rejects(promise: Promise<unknown>, code: string): Promise<ContractRuleError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ContractRuleError, String(error));
    assert.equal(error.code, code);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('ContractBlock', () => {
  let h: ContractHarness;
  let counterId: Uint8Array;
  before(async () => {
    h = await ContractHarness.open();
    const deploy = deployTx(COUNTER, '[5]');
    counterId = contractId(deploy.tx.txid);
    const { results } = await h.block([deploy]);
    const r = results[0]!;
    assert.ok(r.outcome?.ok);
    assert.deepEqual(r.deployed, counterId);
  });
  after(() => h.close());

  test('deploy stores code, record and init writes; call and query read them back', async () => {
    const record = await readContractRecord(h.t.store, counterId);
    assert.equal(record?.deployHeight, 1);
    const source = await h.t.store.get(StateKeys.contractSource(record!.codeHash));
    assert.equal(new TextDecoder().decode(source), COUNTER);
    const owner = await storageReader(h.t.store, counterId).get('owner');
    assert.equal(owner, JSON.stringify(aliceAddress));

    const { results } = await h.block([callTx(counterId, 'add', '[2]')]);
    assert.deepEqual(results[0]!.outcome, { ok: true, value: 7 });
    assert.deepEqual(
      results[0]!.events.map((e) => [e.contractId, e.name, e.data]),
      [[toHex(counterId), 'added', { by: 2 }]],
    );
    const q = await queryContract(h.runtime, h.t.store, {
      contractId: counterId,
      method: 'get',
      args: [],
      gasLimit: 10_000,
      height: h.height,
      time: h.time,
    });
    assert.ok(q.ok && q.value === 7);
    const write = await queryContract(h.runtime, h.t.store, {
      contractId: counterId,
      method: 'poke',
      args: [],
      gasLimit: 10_000,
      height: h.height,
      time: h.time,
    });
    assert.ok(!write.ok && write.error.code === 'CONTRACT_READ_ONLY');
  });

  test('a failed call reverts its writes and events, pays its gas, and the block stays valid', async () => {
    const before = await storageReader(h.t.store, counterId).get('n');
    const { results, block } = await h.block([
      callTx(counterId, 'add', '[13]'),
      callTx(counterId, 'burn', '[]', 20_000),
    ]);
    const [thrown, burnt] = results;
    assert.deepEqual(thrown!.outcome, { ok: false, code: 'CONTRACT_REVERTED', reason: 'unlucky' });
    assert.deepEqual(thrown!.events, []);
    assert.ok(thrown!.gasUsed > 0);
    assert.equal(thrown!.gasFee, 50_000n * 3n);
    assert.equal(burnt!.outcome?.ok, false);
    assert.equal(burnt!.outcome?.ok === false && burnt!.outcome.code, 'CONTRACT_OUT_OF_GAS');
    assert.equal(burnt!.gasUsed, 20_000);
    assert.equal(block.gasUsed, thrown!.gasUsed + 20_000);
    assert.equal(block.gasReserved, 70_000);
    assert.deepEqual(block.events, []);
    assert.equal(await storageReader(h.t.store, counterId).get('n'), before);
  });

  test('gas: deploy charge plus init, reserved = limits, fee = limit x price', async () => {
    const d = deployTx(COUNTER, '[1]', 300_000);
    const { results } = await h.block([d]);
    const r = results[0]!;
    const base = deployGas(codeBytes(COUNTER).length);
    assert.ok(r.gasUsed > base && r.gasUsed < base + 20_000, String(r.gasUsed));
    assert.equal(r.gasReserved, 300_000);
    assert.equal(r.gasFee, 600_000n);
    // The same code deployed twice is stored once.
    const a = await readContractRecord(h.t.store, counterId);
    const b = await readContractRecord(h.t.store, r.deployed!);
    assert.deepEqual(a!.codeHash, b!.codeHash);
  });

  test('a failed init creates no contract', async () => {
    const d = deployTx(COUNTER.replace("ctx.storage.set('n', start);", 'throw 1;'), '[1]');
    const { results } = await h.block([d]);
    assert.equal(results[0]!.outcome?.ok, false);
    assert.equal(results[0]!.deployed, undefined);
    assert.equal(await readContractRecord(h.t.store, contractId(d.tx.txid)), undefined);
    await rejects(h.block([callTx(contractId(d.tx.txid), 'get', '[]')]), 'CONTRACT_UNKNOWN');
  });

  test('the block gas limit counts reserved gas; the transaction over it leaves nothing', async () => {
    const params = { ...DEFAULT_CONTRACT_PARAMS, blockGasLimit: 120_000 };
    const rootBefore = h.t.store.root;
    await rejects(
      h.block(
        [
          callTx(counterId, 'add', '[1]'),
          callTx(counterId, 'add', '[1]'),
          callTx(counterId, 'add', '[1]'),
        ],
        params,
      ),
      'CONTRACT_BLOCK_GAS',
    );
    assert.deepEqual(h.t.store.root, rootBefore);
  });

  test('each contract rule has its code', async () => {
    await rejects(
      h.block([
        contractTx({ payload: { type: ContractPayloadType.call, data: Uint8Array.of(1) } }),
      ]),
      'CONTRACT_PAYLOAD_MALFORMED',
    );
    await rejects(
      h.block([deployTx('export function f(ctx) { eval("1"); }', '')]),
      'CONTRACT_DEPLOY_REFUSED',
    );
    await rejects(h.block([callTx(counterId, 'add', '[1.50]')]), 'CONTRACT_BAD_ARGS');
    await rejects(h.block([callTx(counterId, 'add', '{"a":1}')]), 'CONTRACT_BAD_ARGS');
    await rejects(h.block([deployTx('export function f(ctx) {}', '[1]')]), 'CONTRACT_BAD_ARGS');
    await rejects(h.block([deployTx(COUNTER, '[1]', 10_000)]), 'CONTRACT_GAS_LIMIT');
    await rejects(h.block([callTx(counterId, 'add', '[1]', 2_000_001)]), 'CONTRACT_GAS_LIMIT');
    await rejects(
      h.block([callTx(counterId, 'add', '[1]', 50_000, 1n)], {
        ...DEFAULT_CONTRACT_PARAMS,
        minGasPrice: 2n,
      }),
      'CONTRACT_GAS_PRICE_LOW',
    );
    await rejects(h.block([callTx(new Uint8Array(32), 'get', '[]')]), 'CONTRACT_UNKNOWN');
    await rejects(
      h.block([
        contractTx({
          signer: null,
          payload: {
            kind: 'call',
            contractId: counterId,
            gasLimit: 10_000,
            gasPrice: 1n,
            method: 'get',
            args: argsBytes('[]'),
          },
        }),
      ]),
      'CONTRACT_NO_CALLER',
    );
  });

  test('an unknown method is a failed call that pays, not an invalid transaction', async () => {
    const { results } = await h.block([callTx(counterId, 'nope', '[]')]);
    assert.deepEqual(results[0]!.outcome, {
      ok: false,
      code: 'CONTRACT_NO_METHOD',
      reason: 'the contract exports no method nope',
    });
    assert.equal(results[0]!.gasFee, 150_000n);
  });
});

describe('contract-locked coins', () => {
  let h: ContractHarness;
  let multisig: Uint8Array;
  const k1 = testKey('o1').publicKey;
  const k2 = testKey('o2').publicKey;
  const k3 = testKey('o3').publicKey;
  const stranger = testKey('x').publicKey;
  before(async () => {
    h = await ContractHarness.open();
    const source = readFileSync(
      new URL('../../examples/contracts/multisig.js', import.meta.url),
      'utf8',
    );
    const d = deployTx(source, JSON.stringify([[k1, k2, k3].map(toHex), 2]), 300_000);
    multisig = contractId(d.tx.txid);
    const { results } = await h.block([d]);
    assert.ok(results[0]!.outcome?.ok, JSON.stringify(results[0]!.outcome));
  });
  after(() => h.close());

  const spend = (signers: Uint8Array[]) =>
    contractTx({
      signer: null,
      spent: [contractCoin(multisig), ...signers.map(() => contractCoin(multisig, 1n))],
      signers: [null, ...signers],
    });

  test('two owners release the coin: the spend rule runs and its gas is reserved and paid', async () => {
    const { results } = await h.block([spend([k1, k3])]);
    const r = results[0]!;
    assert.equal(r.outcome, undefined);
    assert.ok(r.gasUsed > 0);
    assert.equal(r.gasReserved, 3 * DEFAULT_CONTRACT_PARAMS.spendGasLimit);
    assert.equal(r.gasFee, BigInt(r.gasReserved) * DEFAULT_CONTRACT_PARAMS.minGasPrice);
  });

  test('one owner, or an owner and a stranger, are refused', async () => {
    const one = await rejects(h.block([spend([k2])]), 'CONTRACT_SPEND_REFUSED');
    assert.equal(one.penalty, 100);
    await rejects(h.block([spend([k2, stranger])]), 'CONTRACT_SPEND_REFUSED');
  });

  test('a coin locked to a contract that does not exist cannot be spent', async () => {
    await rejects(
      h.block([contractTx({ signer: null, spent: [contractCoin(new Uint8Array(32).fill(7))] })]),
      'CONTRACT_UNKNOWN',
    );
  });
});

describe('determinism', () => {
  test('the same blocks give the same state roots with fresh and warm contexts', async () => {
    const blocks = (() => {
      const d = deployTx(COUNTER, '[0]');
      const id = contractId(d.tx.txid);
      return [
        [d],
        [callTx(id, 'add', '[1]'), callTx(id, 'add', '[13]'), callTx(id, 'add', '[2]')],
        [callTx(id, 'burn', '[]', 5_000), callTx(id, 'add', '[40]'), callTx(id, 'nope', '[]')],
      ];
    })();
    const run = async (runtime: ContractRuntime) => {
      const h = await ContractHarness.open(runtime);
      try {
        const out: string[] = [];
        for (const txs of blocks) {
          const { root, block } = await h.block(txs);
          out.push(`${toHex(root)} ${block.gasUsed} ${JSON.stringify(block.events)}`);
        }
        return out;
      } finally {
        await h.close();
      }
    };
    const warm = await run(new ContractRuntime());
    const fresh = await run(new ContractRuntime({ warmContexts: false }));
    assert.deepEqual(warm, fresh);
    assert.equal(new Set(warm.map((l) => l.split(' ')[0])).size, 3);
  });
});

describe('rollback', () => {
  test('rolling back blocks of deploys and calls restores the earlier roots and storage', async () => {
    const h = await ContractHarness.open();
    try {
      const d = deployTx(COUNTER, '[10]');
      const id = contractId(d.tx.txid);
      const { root: r1 } = await h.block([d]);
      const { root: r2 } = await h.block([callTx(id, 'add', '[5]')]);
      const later = deployTx(COUNTER, '[1]');
      await h.block([callTx(id, 'add', '[7]'), later]);
      assert.notEqual(await readContractRecord(h.t.store, contractId(later.tx.txid)), undefined);
      assert.equal(await storageReader(h.t.store, id).get('n'), '22');
      assert.deepEqual(await rollbackOne(h.t), r2);
      assert.equal(await storageReader(h.t.store, id).get('n'), '15');
      assert.equal(await readContractRecord(h.t.store, contractId(later.tx.txid)), undefined);
      assert.deepEqual(await rollbackOne(h.t), r1);
      assert.equal(await storageReader(h.t.store, id).get('n'), '10');
      // What remains verifies against its root.
      await h.t.store.verify();
    } finally {
      await h.close();
    }
  });
});

describe('code cache', () => {
  test('a node that restarts (empty cache) loads code from state by its hash, a leading BOM included', async () => {
    const h = await ContractHarness.open();
    try {
      const d = deployTx(`\uFEFF${COUNTER}`, '[3]');
      const id = contractId(d.tx.txid);
      const { results } = await h.block([d]);
      assert.ok(results[0]!.outcome?.ok, JSON.stringify(results[0]!.outcome));
      const restarted = new ContractRuntime();
      try {
        const q = await queryContract(restarted, h.t.store, {
          contractId: id,
          method: 'get',
          args: [],
          gasLimit: 10_000,
          height: 1,
          time: 0,
        });
        assert.ok(q.ok && q.value === 3);
      } finally {
        restarted.dispose();
      }
    } finally {
      await h.close();
    }
  });
});

describe('outputs locked to contracts', () => {
  test('only to a contract that exists', async () => {
    const h = await ContractHarness.open();
    try {
      const d = deployTx(COUNTER, '[1]');
      const id = contractId(d.tx.txid);
      // Not before its deploy is in a block.
      const early = contractTx({ outputs: [{ amount: 5_000n, lock: contractLock(id) }] });
      await rejects(h.block([early]), 'CONTRACT_UNKNOWN');
      await h.block([d]);
      const pay = contractTx({ outputs: [{ amount: 5_000n, lock: contractLock(id) }] });
      const { results } = await h.block([pay]);
      assert.equal(results[0]!.gasReserved, 0);
      assert.equal(results[0]!.gasFee, 0n);
      assert.equal(results[0]!.outcome, undefined);
      await rejects(
        h.block([
          contractTx({ outputs: [{ amount: 1n, lock: contractLock(new Uint8Array(32).fill(9)) }] }),
        ]),
        'CONTRACT_UNKNOWN',
      );
    } finally {
      await h.close();
    }
  });
});
