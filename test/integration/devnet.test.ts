/**
 * A devnet node as a real child process: init, start, spend premined coins
 * through the API, stop, restart, and find every block and coin intact.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { toHex } from '../../src/util/bytes.ts';
import { getJson, NodeProcess, postJson, runUtxod } from '../support/node-process.ts';

const datadir = mkdtempSync(join(tmpdir(), 'utxod-devnet-'));
const seed = mnemonicToSeed(DEVNET_MNEMONIC);
const alice = deriveKey(seed, accountPath(1, 0, 0));
const bob = deriveKey(seed, accountPath(1, 0, 7));

async function waitForStatus(
  url: string,
  txid: string,
  status: string,
): Promise<{ status: string; height?: number }> {
  for (let i = 0; i < 100; i++) {
    const { body } = await getJson<{ status: string; height?: number }>(
      `${url}/api/v1/txs/${txid}`,
    );
    if (body.status === status) return body;
    await sleep(100);
  }
  throw new Error(`transaction ${txid} never reached status ${status}`);
}

const started: NodeProcess[] = [];
function startNode(): NodeProcess {
  const node = NodeProcess.start(datadir, ['--block-interval', '200']);
  started.push(node);
  return node;
}

describe('devnet node process', () => {
  after(() => {
    for (const node of started) node.child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it('initialises, spends premined coins, restarts with everything intact', async () => {
    const init = runUtxod(['init', '--datadir', datadir]);
    assert.equal(init.status, 0, init.stderr);
    assert.match(init.stdout, /genesis hash/);
    const genesis = parseGenesis(readFileSync(join(datadir, 'genesis.json'), 'utf8'));
    const genesisTx = (await buildGenesisBlock(genesis)).block.txs[0]!;
    const aliceCoin: SpendableCoin = {
      outpoint: { txid: genesisTx.txid, index: 0 },
      amount: genesisTx.outputs[0]!.amount,
      lock: genesisTx.outputs[0]!.lock,
    };
    assert.deepEqual(
      aliceCoin.lock,
      pubkeyLock(alice.publicKey),
      'premine 0 belongs to the documented key',
    );

    let node = startNode();
    let url = await node.url();
    await node.waitForLog((l) => l.msg === 'committed block');

    const pay = buildTransaction({
      chainId: genesis.chainId,
      coins: [aliceCoin],
      outputs: [{ amount: 25n * COIN, lock: pubkeyLock(bob.publicKey) }],
      changeLock: pubkeyLock(alice.publicKey),
      feeRate: 2000n,
      keys: [alice],
    });
    const submitted = await postJson<{ txid: string; status: string }>(`${url}/api/v1/txs`, {
      hex: toHex(pay.encode()),
    });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.body));
    assert.equal(submitted.body.txid, toHex(pay.txid));
    const committed = await waitForStatus(url, toHex(pay.txid), 'committed');
    assert.ok(committed.height !== undefined && committed.height >= 1);

    const again = await postJson<{ error: { code: string } }>(`${url}/api/v1/txs`, {
      hex: toHex(pay.encode()),
    });
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'MEMPOOL_ALREADY_KNOWN');
    const garbage = await postJson<{ error: { code: string } }>(`${url}/api/v1/txs`, { hex: 'zz' });
    assert.equal(garbage.status, 400);

    const heightBeforeStop = (await getJson<{ height: number }>(`${url}/api/v1/chain/tip`)).body
      .height;
    const stopped = await node.stop('SIGTERM');
    assert.equal(stopped.code, 0, node.stderr);
    const lastCommitted = node.committedHeight;
    assert.ok(lastCommitted >= heightBeforeStop);

    node = startNode();
    url = await node.url();
    const tip = (await getJson<{ height: number }>(`${url}/api/v1/chain/tip`)).body;
    assert.ok(
      tip.height >= lastCommitted,
      `restarted at ${tip.height}, had committed ${lastCommitted}`,
    );
    const bobCoin = await getJson<{ amount: string }>(`${url}/api/v1/coins/${toHex(pay.txid)}/0`);
    assert.equal(bobCoin.status, 200);
    assert.equal(bobCoin.body.amount, (25n * COIN).toString());
    const spent = await getJson<{ error: { code: string } }>(
      `${url}/api/v1/coins/${toHex(genesisTx.txid)}/0`,
    );
    assert.equal(spent.status, 404);

    // Spend the change after the restart: the chain and mempool keep working.
    const change = pay.outputs[1]!;
    const second = buildTransaction({
      chainId: genesis.chainId,
      coins: [{ outpoint: { txid: pay.txid, index: 1 }, amount: change.amount, lock: change.lock }],
      outputs: [{ amount: 5n * COIN, lock: pubkeyLock(bob.publicKey) }],
      changeLock: pubkeyLock(alice.publicKey),
      feeRate: 2000n,
      keys: [alice],
    });
    assert.equal(
      (await postJson(`${url}/api/v1/txs`, { hex: toHex(second.encode()) })).status,
      202,
    );
    await waitForStatus(url, toHex(second.txid), 'committed');
    assert.equal((await node.stop('SIGINT')).code, 0);

    const verify = runUtxod(['verify-chain', '--datadir', datadir, '--full']);
    assert.equal(verify.status, 0, verify.stderr);
    assert.match(verify.stdout, /OK/);
  });
});
