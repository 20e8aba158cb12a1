import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import {
  buildCall,
  buildContractSpend,
  buildDeploy,
  buildTransaction,
  encodeContractArgs,
  payToContract,
  TxBuildError,
} from '../../src/client/index.ts';
import { wasmVerifier } from '../../src/crypto/verifier.ts';
import { DecodeError } from '../../src/encoding/index.ts';
import {
  addressToLock,
  ContractPayloadLimits,
  ContractPayloadType,
  chainIdHash,
  contractId,
  contractLock,
  decodeContractPayload,
  encodeContractPayload,
  LockType,
  lockToAddress,
  pubkeyLock,
  SighashContext,
  Transaction,
} from '../../src/primitives/index.ts';
import { toHex } from '../../src/util/index.ts';
import { DEFAULT_CONTRACT_PARAMS } from '../../src/vm/index.ts';
import { ContractHarness, HRP, testKey } from '../support/contract-chain.ts';

const alice = testKey('alice');
const bob = testKey('bob');
const aliceLock = pubkeyLock(alice.publicKey);
const coins = [
  {
    outpoint: { txid: new Uint8Array(32).fill(9), index: 0 },
    amount: 50_000_000n,
    lock: aliceLock,
  },
];
const base = { chainId: 'test', coins, changeLock: aliceLock, feeRate: 1000n, keys: [alice] };

function feeOf(tx: Transaction, inputs: bigint): bigint {
  return inputs - tx.outputs.reduce((s, o) => s + o.amount, 0n);
}

describe('contract payloads', () => {
  test('deploy and call round-trip through their byte encoding', () => {
    const deploy = {
      kind: 'deploy' as const,
      gasLimit: 123_456,
      gasPrice: 7n,
      code: new TextEncoder().encode('export function f(ctx) { return "é"; }'),
      args: new TextEncoder().encode('[1,{"$bigint":"2"}]'),
    };
    assert.deepEqual(decodeContractPayload(encodeContractPayload(deploy)), deploy);
    const call = {
      kind: 'call' as const,
      contractId: new Uint8Array(32).fill(3),
      gasLimit: 1,
      gasPrice: 1n,
      method: '$get_2',
      args: new TextEncoder().encode('[]'),
    };
    const payload = encodeContractPayload(call);
    assert.equal(payload.type, ContractPayloadType.call);
    assert.deepEqual(decodeContractPayload(payload), call);
    // Layout of docs/protocol.md: id, gas limit u32 LE, gas price u64 LE, method, args.
    assert.equal(toHex(payload.data.subarray(32, 44)), '010000000100000000000000');
    assert.equal(
      toHex(payload.data.subarray(44)),
      `06${toHex(new TextEncoder().encode('$get_2'))}025b5d`,
    );
  });

  test('anything off by a byte is refused', () => {
    const good = encodeContractPayload({
      kind: 'call',
      contractId: new Uint8Array(32),
      gasLimit: 10,
      gasPrice: 1n,
      method: 'm',
      args: new TextEncoder().encode('[]'),
    });
    const variants: [string, Uint8Array, number?][] = [
      ['trailing byte', Uint8Array.of(...good.data, 0)],
      ['truncated', good.data.subarray(0, good.data.length - 1)],
      ['gas limit 0', patch(good.data, 32, [0, 0, 0, 0])],
      [
        'gas limit over the bound',
        patch(good.data, 32, u32(ContractPayloadLimits.maxGasLimit + 1)),
      ],
      ['gas price 0', patch(good.data, 36, [0, 0, 0, 0, 0, 0, 0, 0])],
      ['gas price over MAX_MONEY', patch(good.data, 36, [255, 255, 255, 255, 255, 255, 255, 255])],
      ['method not an identifier', patch(good.data, 45, [0x31])],
      ['method not ASCII', patch(good.data, 45, [0xc3])],
      ['empty args', Uint8Array.of(...good.data.subarray(0, 46), 0)],
      ['unknown type', good.data, 18],
    ];
    for (const [what, data, type] of variants) {
      assert.throws(
        () => decodeContractPayload({ type: type ?? ContractPayloadType.call, data }),
        DecodeError,
        what,
      );
    }
    const deploy = (code: number[]) =>
      Uint8Array.of(...u32(100_000), 1, 0, 0, 0, 0, 0, 0, 0, code.length, ...code, 0);
    assert.ok(decodeContractPayload({ type: ContractPayloadType.deploy, data: deploy([0x61]) }));
    for (const [what, code] of [
      ['empty code', []],
      ['invalid UTF-8', [0xff]],
      ['a lone surrogate in UTF-8', [0xed, 0xa0, 0x80]],
    ] as const) {
      assert.throws(
        () => decodeContractPayload({ type: ContractPayloadType.deploy, data: deploy([...code]) }),
        DecodeError,
        what,
      );
    }
    // A non-minimal length prefix (0xfd + u16 for 1 byte).
    const nonMinimal = Uint8Array.of(...u32(100_000), 1, 0, 0, 0, 0, 0, 0, 0, 0xfd, 1, 0, 0x61, 0);
    assert.throws(
      () => decodeContractPayload({ type: ContractPayloadType.deploy, data: nonMinimal }),
      DecodeError,
    );
  });

  test('the contract lock decodes in a transaction and is its own address version', () => {
    const id = contractId(new Uint8Array(32).fill(1));
    assert.equal(toHex(id), toHex(contractId(new Uint8Array(32).fill(1))));
    assert.notEqual(toHex(id), toHex(contractId(new Uint8Array(32).fill(2))));
    const tx = new Transaction({
      version: 1,
      inputs: [{ prevout: { txid: new Uint8Array(32), index: 0 } }],
      outputs: [{ amount: 5n, lock: contractLock(id) }],
      lockTime: 0,
      payload: null,
      witnesses: [{ publicKey: new Uint8Array(33), signature: new Uint8Array(64) }],
    });
    const decoded = Transaction.decode(tx.encode());
    assert.equal(decoded.outputs[0]!.lock.type, LockType.contract);
    const address = lockToAddress(contractLock(id), HRP);
    assert.deepEqual(addressToLock(address, HRP), contractLock(id));
    const pubkeyAddress = lockToAddress(aliceLock, HRP);
    assert.deepEqual(addressToLock(pubkeyAddress, HRP), aliceLock);
    const bad = tx.encode().slice();
    bad[4 + 1 + 36 + 1 + 8] = 2; // the output's lock type byte
    assert.throws(() => Transaction.decode(bad), DecodeError);
  });
});

describe('SDK contract builders', () => {
  const harness = ContractHarness.open();
  after(async () => (await harness).close());

  test('buildDeploy: decodes to the deploy it was asked for, pays gas on top of size, runs', async () => {
    const code =
      'export function init(ctx, n) { ctx.storage.set("n", n); }\nexport function get(ctx) { return ctx.storage.get("n"); }';
    const { tx, contractId: id } = buildDeploy({
      ...base,
      code,
      args: [41n],
      gasLimit: 100_000,
      gasPrice: 2n,
    });
    const decoded = Transaction.decode(tx.encode());
    const p = decodeContractPayload(decoded.payload!);
    assert.ok(p.kind === 'deploy');
    assert.equal(new TextDecoder().decode(p.code), code);
    assert.equal(new TextDecoder().decode(p.args), '[{"$bigint":"41"}]');
    assert.deepEqual(id, contractId(decoded.txid));
    assert.ok(feeOf(decoded, 50_000_000n) >= 200_000n);
    assert.equal(decoded.outputs.length, 1); // change only
    const sighash = new SighashContext(chainIdHash('test'), decoded, coins).forInput(0);
    assert.ok(wasmVerifier.verify(sighash, decoded.witnesses[0]!.signature, alice.publicKey));

    const h = await harness;
    const { results } = await h.block([
      { tx: decoded, spent: [{ ...coins[0]!, height: 1, coinbase: false }] },
    ]);
    assert.ok(results[0]!.outcome?.ok);
    assert.deepEqual(results[0]!.deployed, id);

    const call = buildCall({
      ...base,
      contractId: toHex(id),
      method: 'get',
      gasLimit: 5_000,
      gasPrice: 1n,
    });
    const c = decodeContractPayload(Transaction.decode(call.encode()).payload!);
    assert.ok(c.kind === 'call' && c.method === 'get' && toHex(c.contractId) === toHex(id));
    assert.equal(new TextDecoder().decode(c.args), '[]');
    const { results: called } = await h.block([
      { tx: call, spent: [{ ...coins[0]!, height: 1, coinbase: false }] },
    ]);
    assert.deepEqual(called[0]!.outcome, { ok: true, value: 41n });
  });

  test('payToContract locks an output to the contract; buildContractSpend signs and pays spend gas', () => {
    const id = new Uint8Array(32).fill(5);
    const pay = buildTransaction({ ...base, outputs: [payToContract(toHex(id), 1_000_000n)] });
    assert.deepEqual(Transaction.decode(pay.encode()).outputs[0]!.lock, contractLock(id));

    const locked = [0, 1].map((index) => ({
      outpoint: { txid: pay.txid, index },
      amount: 1_000_000n,
      lock: contractLock(id),
    }));
    const spend = buildContractSpend({
      chainId: 'test',
      contractCoins: locked,
      signers: [bob],
      outputs: [{ amount: 500_000n, lock: aliceLock }],
      changeLock: aliceLock,
      feeRate: 1000n,
      spendGasLimit: DEFAULT_CONTRACT_PARAMS.spendGasLimit,
      minGasPrice: DEFAULT_CONTRACT_PARAMS.minGasPrice,
    });
    const decoded = Transaction.decode(spend.encode());
    const sighash = new SighashContext(chainIdHash('test'), decoded, locked).forInput(0);
    assert.ok(wasmVerifier.verify(sighash, decoded.witnesses[0]!.signature, bob.publicKey));
    assert.ok(decoded.witnesses[1]!.publicKey.every((b) => b === 0));
    assert.ok(feeOf(decoded, 2_000_000n) >= 200_000n);
    assert.throws(
      () => buildContractSpend({ ...spendReq(locked), contractCoins: [coins[0]!] }),
      TxBuildError,
    );
  });

  test('a funded contract spend: the wallet pays the fee, the contract surplus stays whole', () => {
    const id = new Uint8Array(32).fill(6);
    const locked = [
      {
        outpoint: { txid: new Uint8Array(32).fill(7), index: 0 },
        amount: 1_000_000n,
        lock: contractLock(id),
      },
    ];
    const wallet = [
      { outpoint: { txid: new Uint8Array(32).fill(8), index: 0 }, amount: 100n, lock: aliceLock },
      ...coins,
    ];
    const spend = buildContractSpend({
      ...spendReq(locked),
      signers: [bob],
      outputs: [{ amount: 400_000n, lock: pubkeyLock(bob.publicKey) }],
      changeLock: contractLock(id),
      spendGasLimit: DEFAULT_CONTRACT_PARAMS.spendGasLimit,
      minGasPrice: DEFAULT_CONTRACT_PARAMS.minGasPrice,
      funding: { coins: wallet, keys: [alice], changeLock: aliceLock },
    });
    const decoded = Transaction.decode(spend.encode());
    // Only the largest wallet coin is needed; it comes after the contract input.
    assert.deepEqual(
      decoded.inputs.map((i) => i.prevout.txid[0]),
      [7, 9],
    );
    assert.deepEqual(
      decoded.outputs.map((o) => [o.amount, o.lock.type]),
      [
        [400_000n, LockType.pubkeyHash],
        [600_000n, LockType.contract],
        [decoded.outputs[2]!.amount, LockType.pubkeyHash],
      ],
    );
    const fee = feeOf(decoded, 51_000_000n);
    assert.ok(fee >= 100_000n && fee < 110_000n, `fee ${fee}`);
    const context = new SighashContext(chainIdHash('test'), decoded, [locked[0]!, coins[0]!]);
    assert.ok(
      wasmVerifier.verify(context.forInput(0), decoded.witnesses[0]!.signature, bob.publicKey),
    );
    assert.ok(
      wasmVerifier.verify(context.forInput(1), decoded.witnesses[1]!.signature, alice.publicKey),
    );
    assert.throws(
      () =>
        buildContractSpend({
          ...spendReq(locked),
          funding: { coins: [wallet[0]!], keys: [alice], changeLock: aliceLock },
        }),
      (e: unknown) => e instanceof TxBuildError && e.code === 'INSUFFICIENT_FUNDS',
    );
  });

  test('arguments without a canonical form are refused before anything is signed', () => {
    assert.throws(() => encodeContractArgs([Number.NaN]), TxBuildError);
    assert.throws(() => encodeContractArgs([undefined]), TxBuildError);
    assert.equal(
      new TextDecoder().decode(encodeContractArgs([{ a: [1n, 'x'] }])),
      '[{"a":[{"$bigint":"1"},"x"]}]',
    );
  });
});

function spendReq(
  locked: {
    outpoint: { txid: Uint8Array; index: number };
    amount: bigint;
    lock: ReturnType<typeof contractLock>;
  }[],
) {
  return {
    chainId: 'test',
    contractCoins: locked,
    signers: [],
    outputs: [{ amount: 1n, lock: aliceLock }],
    changeLock: aliceLock,
    feeRate: 1000n,
    spendGasLimit: 1,
    minGasPrice: 1n,
  };
}

function patch(bytes: Uint8Array, at: number, values: readonly number[]): Uint8Array {
  const out = bytes.slice();
  out.set(values, at);
  return out;
}

function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
}
