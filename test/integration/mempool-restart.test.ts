/**
 * Mempool persistence through a real node process: a node that does not
 * produce blocks (it joins another node's genesis, and that node is never
 * started) holds a chain of unconfirmed transactions; after SIGTERM and
 * restart it holds the same ones in the same order, and after an admin flush
 * followed by SIGKILL it still does.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { bytesEqual, toHex } from '../../src/util/bytes.ts';
import {
  getJson,
  initNodeDir,
  issueToken,
  NodeProcess,
  postJson,
} from '../support/node-process.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-mempool-restart-'));
const started: NodeProcess[] = [];
/** Start-up on a loaded 2-core machine can take tens of seconds. */
const STARTUP_MS = 90_000;

const seed = mnemonicToSeed(DEVNET_MNEMONIC);
const alice = deriveKey(seed, accountPath(1, 0, 0));
const bob = deriveKey(seed, accountPath(1, 0, 7));
const aliceLock = pubkeyLock(alice.publicKey);

function pay(chainId: string, coin: SpendableCoin): { tx: Transaction; change: SpendableCoin } {
  const tx = buildTransaction({
    chainId,
    coins: [coin],
    outputs: [{ amount: COIN, lock: pubkeyLock(bob.publicKey) }],
    changeLock: aliceLock,
    feeRate: 2000n,
    keys: [alice],
  });
  const index = tx.outputs.findIndex((o) => bytesEqual(o.lock.hash, aliceLock.hash));
  return {
    tx,
    change: {
      outpoint: { txid: tx.txid, index },
      amount: tx.outputs[index]!.amount,
      lock: aliceLock,
    },
  };
}

async function poolTxids(node: NodeProcess, token: string): Promise<string[]> {
  const { status, body } = await getJson<{ items: Array<{ txid: string }> }>(
    `${await node.url()}/api/v1/mempool/txs`,
    token,
  );
  assert.equal(status, 200, JSON.stringify(body));
  return body.items.map((i) => i.txid);
}

describe('mempool persistence across node restarts', { timeout: 300_000 }, () => {
  after(() => {
    for (const node of started) node.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('a restarted node holds the same transactions, after SIGTERM and after flush + SIGKILL', async () => {
    const genesisFile = join(initNodeDir(join(root, 'absent-producer')), 'genesis.json');
    const dir = initNodeDir(join(root, 'node'), genesisFile);
    const genesis = parseGenesis(readFileSync(genesisFile, 'utf8'));
    const genesisTx = (await buildGenesisBlock(genesis)).block.txs[0]!;
    const start = () => {
      const node = NodeProcess.start(dir, ['--p2p-host', '127.0.0.1']);
      started.push(node);
      return node;
    };

    let node = start();
    await node.url(STARTUP_MS);
    // Only once the node is up: it creates the token signing keys on first start.
    const reader = issueToken(dir);
    const first = pay(genesis.chainId, {
      outpoint: { txid: genesisTx.txid, index: 0 },
      amount: genesisTx.outputs[0]!.amount,
      lock: genesisTx.outputs[0]!.lock,
    });
    const second = pay(genesis.chainId, first.change);
    const third = pay(genesis.chainId, second.change);
    for (const { tx } of [first, second]) {
      const sent = await postJson(`${await node.url()}/api/v1/txs`, { hex: toHex(tx.encode()) });
      assert.equal(sent.status, 202, JSON.stringify(sent.body));
    }
    const held = [toHex(first.tx.txid), toHex(second.tx.txid)];
    assert.deepEqual(await poolTxids(node, reader), held);

    assert.equal((await node.stop('SIGTERM')).code, 0, node.stderr);
    node = start();
    const restored = await node.waitForLog((l) => l.msg === 'restored mempool', STARTUP_MS);
    assert.equal(restored['accepted'], 2);
    assert.deepEqual(await poolTxids(node, reader), held, 'the same transactions, parents first');

    // A crash loses nothing that was flushed before it.
    const sent = await postJson(`${await node.url()}/api/v1/txs`, {
      hex: toHex(third.tx.encode()),
    });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const flushed = await postJson<{ txs: number }>(
      `${await node.url()}/api/v1/admin/mempool/flush`,
      {},
      issueToken(dir, 'admin'),
    );
    assert.equal(flushed.status, 200, JSON.stringify(flushed.body));
    assert.equal(flushed.body.txs, 3);
    assert.equal((await node.stop('SIGKILL')).signal, 'SIGKILL');
    node = start();
    await node.waitForLog((l) => l.msg === 'restored mempool', STARTUP_MS);
    assert.deepEqual(await poolTxids(node, reader), [...held, toHex(third.tx.txid)]);
    assert.equal((await node.stop('SIGTERM')).code, 0, node.stderr);
  });
});
