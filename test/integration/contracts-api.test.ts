/**
 * Contracts through the API of a real server over a real chain: deploy and
 * call submitted as transactions, the contract route, a storage value whose
 * proof verifies against the block's stateRoot, read-only queries with a gas
 * cap, contract events on the stream, and a contract-locked coin spent with
 * the SDK's builder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  buildCall,
  buildContractSpend,
  buildDeploy,
  payToContract,
} from '../../src/client/contracts.ts';
import { RpcClient } from '../../src/client/rpc-client.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { decodeProof, verifyProof } from '../../src/state/proof.ts';
import { fromHex, toHex } from '../../src/util/bytes.ts';
import { type ApiFixture, startApiFixture } from '../support/api-server.ts';
import { genesisCoins } from '../support/chain-fixture.ts';

const GATE = `export function init(ctx, open) { ctx.storage.set('open', open); return open; }
export function setOpen(ctx, open) {
  ctx.storage.set('open', open);
  ctx.emit('gate', { open });
  return open;
}
export function isOpen(ctx) { return ctx.storage.get('open'); }
export function spin(ctx) { for (;;) {} }
export function spend(ctx) { return ctx.storage.get('open') === true; }
`;

describe('contracts through the API', () => {
  let f: ApiFixture;
  let client: RpcClient;
  let id = '';
  let bobChange: SpendableCoin | undefined;
  before(async () => {
    f = await startApiFixture();
    client = new RpcClient({ url: f.url });
  });
  after(() => f.close());

  /** Submits `tx`, produces a block, and checks the block holds it. */
  async function confirm(tx: Transaction): Promise<number> {
    await client.submitTx(tx);
    const block = await f.produce();
    assert.ok(
      block.txs.some((t) => toHex(t.txid) === toHex(tx.txid)),
      'mined',
    );
    return block.height;
  }

  const coinOf = (tx: Transaction, index: number) => ({
    outpoint: { txid: tx.txid, index },
    amount: tx.outputs[index]!.amount,
    lock: tx.outputs[index]!.lock,
  });

  it('deploys a contract and describes it', async () => {
    const [coin] = await genesisCoins(f.t.chain);
    const { tx, contractId } = buildDeploy({
      chainId: f.t.chain.params.chainId,
      coins: [coin!],
      changeLock: pubkeyLock(f.alice.publicKey),
      feeRate: 2000n,
      keys: [f.alice],
      code: GATE,
      args: [false],
      gasLimit: 200_000,
      gasPrice: 1n,
    });
    id = toHex(contractId);
    await confirm(tx);
    const body = await client.contract(id);
    assert.equal(body.codeSize, new TextEncoder().encode(GATE).length);
    assert.deepEqual(body.methods, ['init', 'setOpen', 'isOpen', 'spin', 'spend']);
    assert.deepEqual(
      body.storage.map((e) => [e.key, e.value]),
      [['open', 'false']],
    );
    assert.equal(body.storageTruncated, false);
    assert.equal((await client.contract(id, { limit: 0 })).storageTruncated, true);
    const missing = await fetch(`${f.url}/api/v1/contracts/${'ab'.repeat(32)}`);
    assert.equal(missing.status, 404);
  });

  it('calls it, streams its event, and proves the new value against the block stateRoot', async () => {
    const ws = new WebSocket(`${f.url.replace('http', 'ws')}/api/v1/stream`);
    const messages: Record<string, unknown>[] = [];
    ws.addEventListener('message', (e) => messages.push(JSON.parse(String(e.data))));
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    ws.send(JSON.stringify({ op: 'subscribe', channel: 'contract', contract: id, id: 1 }));
    const until = async (test: (m: Record<string, unknown>) => boolean) => {
      for (let i = 0; i < 50; i++) {
        const found = messages.find(test);
        if (found !== undefined) return found;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no such message in ${JSON.stringify(messages)}`);
    };
    await until((m) => m['type'] === 'subscribed' && m['id'] === 1);

    const coins = await genesisCoins(f.t.chain);
    const call = buildCall({
      chainId: f.t.chain.params.chainId,
      coins: [coins[1]!],
      changeLock: pubkeyLock(f.bob.publicKey),
      feeRate: 2000n,
      keys: [f.bob],
      contractId: id,
      method: 'setOpen',
      args: [true],
      gasLimit: 50_000,
      gasPrice: 1n,
    });
    const height = await confirm(call);
    bobChange = coinOf(call, 0);
    const event = await until((m) => m['type'] === 'contractEvent');
    assert.deepEqual(event, {
      type: 'contractEvent',
      contractId: id,
      txid: toHex(call.txid),
      height,
      name: 'gate',
      data: '{"open":true}',
    });
    ws.close();

    const proof = await client.contractStorage(id, 'open', { height });
    assert.equal(proof.value, 'true');
    const header = (await f.t.chain.requireBlockAt(height)).header;
    assert.equal(proof.stateRoot, toHex(header.stateRoot));
    const key = fromHex(proof.stateKey);
    const decoded = decodeProof(fromHex(proof.proof));
    assert.ok(verifyProof(header.stateRoot, key, new TextEncoder().encode('true'), decoded));
    assert.ok(!verifyProof(header.stateRoot, key, new TextEncoder().encode('false'), decoded));
    // The block before: the value was still false there.
    const before = (await (
      await fetch(`${f.url}/api/v1/contracts/${id}/storage/open?height=${height - 1}`)
    ).json()) as Record<string, string>;
    assert.equal(before['value'], 'false');
    const absent = (await (
      await fetch(`${f.url}/api/v1/contracts/${id}/storage/nothing`)
    ).json()) as Record<string, string | null>;
    assert.equal(absent['value'], null);
    assert.ok(
      verifyProof(
        f.t.chain.tip.header.stateRoot,
        fromHex(absent['stateKey']!),
        null,
        decodeProof(fromHex(absent['proof']!)),
      ),
      'an exclusion proof',
    );
  });

  it('queries read-only within a gas cap', async () => {
    const open = await client.contractQuery(id, { method: 'isOpen', args: '[]' });
    assert.equal(open.ok, true);
    assert.equal(open.value, 'true');
    const spin = await client.contractQuery(id, { method: 'spin', args: '[]', gasLimit: 10_000 });
    assert.equal(spin.ok, false);
    assert.equal(spin.error?.code, 'CONTRACT_OUT_OF_GAS');
    assert.ok(spin.gasUsed <= 10_000);
    const write = await client.contractQuery(id, { method: 'setOpen', args: '[false]' });
    assert.equal(write.error?.code, 'CONTRACT_READ_ONLY');
    const bad = await fetch(`${f.url}/api/v1/contracts/${id}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'isOpen', args: '{' }),
    });
    assert.equal(bad.status, 400);
    const unknown = await fetch(`${f.url}/api/v1/contracts/${'cd'.repeat(32)}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ method: 'isOpen', args: '[]' }),
    });
    assert.equal(unknown.status, 404);
  });

  it('pays coins to the contract and spends them with the SDK while the gate is open', async () => {
    assert.ok(bobChange !== undefined, 'the call left bob change');
    const params = f.t.chain.params.contracts;
    const lockTx = buildTransaction({
      chainId: f.t.chain.params.chainId,
      coins: [bobChange],
      outputs: [payToContract(id, 5_000_000n)],
      changeLock: pubkeyLock(f.bob.publicKey),
      feeRate: 2000n,
      keys: [f.bob],
    });
    await confirm(lockTx);
    const spend = buildContractSpend({
      chainId: f.t.chain.params.chainId,
      contractCoins: [coinOf(lockTx, 0)],
      signers: [],
      outputs: [{ amount: 1_000_000n, lock: pubkeyLock(f.alice.publicKey) }],
      changeLock: pubkeyLock(f.bob.publicKey),
      feeRate: 2000n,
      spendGasLimit: params.spendGasLimit,
      minGasPrice: params.minGasPrice,
    });
    await confirm(spend);
    const [gone] = await f.t.chain.getCoins([{ txid: lockTx.txid, index: 0 }]);
    assert.equal(gone, undefined, 'the contract coin is spent');
  });
});
