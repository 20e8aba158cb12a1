/**
 * Kill -9 a block-producing node at random moments, many times: some kills
 * land during start-up (database open, genesis, mempool restore), the others
 * while it commits blocks that carry spends submitted through the API, so
 * coin deletion, undo data and address/tx index updates are all cut at
 * random points. After every kill the database must open at a committed
 * block whose UTXO commitment verifies, with indexes that agree with the
 * UTXO set and no block the node reported as committed missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { outpointKeyFromAddressCoinKey } from '../../src/chain/address-index.ts';
import type { Chain } from '../../src/chain/chain.ts';
import { decodeTxLocation } from '../../src/chain/records.ts';
import { verifyChain } from '../../src/chain/verify-chain.ts';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { openChainOffline } from '../../src/cli/offline.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { Bucket } from '../../src/storage/buckets.ts';
import type { Database } from '../../src/storage/db.ts';
import { bytesEqual, toHex } from '../../src/util/bytes.ts';
import { NodeProcess, postJson, runUtxod } from '../support/node-process.ts';
import { seededRandom } from '../support/seeded-random.ts';

/** UTXOD_CRASH_KILLS overrides the count (a quick local run). */
const KILLS = Number(process.env['UTXOD_CRASH_KILLS'] ?? 24);
/** Spends submitted per run, each spending the previous one's change (mempool chain). */
const SPENDS_PER_RUN = 8;
/** Start-up on a loaded 2-core machine can take tens of seconds. */
const STARTUP_MS = 90_000;
const datadir = mkdtempSync(join(tmpdir(), 'utxod-crash-'));

const seedBytes = mnemonicToSeed(DEVNET_MNEMONIC);
const alice = deriveKey(seedBytes, accountPath(1, 0, 0));
const bob = deriveKey(seedBytes, accountPath(1, 0, 7));
const aliceLock = pubkeyLock(alice.publicKey);

/** Alice's largest confirmed coin. */
async function largestCoin(chain: Chain): Promise<SpendableCoin> {
  const coins = await chain.addressCoins(aliceLock.hash, { limit: 1000 });
  assert.ok(coins.length > 0, 'alice has no coin left');
  const best = coins.reduce((a, b) => (b.coin.amount > a.coin.amount ? b : a));
  return { outpoint: best.outpoint, amount: best.coin.amount, lock: best.coin.lock };
}

/** A chain of payments to bob, each spending the change of the one before. */
function spendChain(chainId: string, start: SpendableCoin, n: number): Transaction[] {
  const txs: Transaction[] = [];
  let coin = start;
  for (let i = 0; i < n; i++) {
    const tx = buildTransaction({
      chainId,
      coins: [coin],
      outputs: [{ amount: COIN, lock: pubkeyLock(bob.publicKey) }],
      changeLock: aliceLock,
      feeRate: 2000n,
      keys: [alice],
    });
    txs.push(tx);
    const change = tx.outputs.findIndex((o) => bytesEqual(o.lock.hash, aliceLock.hash));
    coin = {
      outpoint: { txid: tx.txid, index: change },
      amount: tx.outputs[change]!.amount,
      lock: aliceLock,
    };
  }
  return txs;
}

/**
 * The indexes agree with the UTXO set: every coin is in the address index and
 * nothing else is; no tx-index entry points above the tip; every transaction
 * of blocks (from, tip] is indexed where it is. Returns the spends in those blocks.
 */
function bucketEntries(db: Database, bucket: number) {
  return db.range(Uint8Array.of(bucket), Uint8Array.of(bucket + 1));
}

async function checkIndexes(chain: Chain, db: Database, from: number): Promise<number> {
  const coins = new Set<string>();
  for await (const [key] of bucketEntries(db, Bucket.coin)) coins.add(toHex(key.subarray(1)));
  let indexed = 0;
  for await (const [key] of bucketEntries(db, Bucket.addressCoin)) {
    const outpoint = toHex(outpointKeyFromAddressCoinKey(key));
    assert.ok(coins.has(outpoint), `the address index lists ${outpoint}, which is not unspent`);
    indexed++;
  }
  assert.equal(indexed, coins.size, 'some unspent coin is missing from the address index');
  for await (const [, value] of bucketEntries(db, Bucket.txIndex)) {
    assert.ok(decodeTxLocation(value).height <= chain.tipHeight, 'a tx-index entry above the tip');
  }
  let spends = 0;
  for (let height = from + 1; height <= chain.tipHeight; height++) {
    const block = await chain.requireBlockAt(height);
    for (const [index, tx] of block.txs.entries()) {
      assert.deepEqual(await chain.getTxLocation(tx.txid), { height, index });
    }
    spends += block.txs.length - 1;
  }
  return spends;
}

describe('crash safety', () => {
  let current: NodeProcess | null = null;
  after(() => {
    current?.child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it(`opens at a verified committed block after ${KILLS} SIGKILLs, during start-up and spends`, async () => {
    const seed = Number(process.env['UTXOD_CRASH_SEED'] ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const where = (kill: number) => `seed ${seed}, kill ${kill}`;
    assert.equal(runUtxod(['init', '--datadir', datadir]).status, 0);
    let highestReported = 0;
    let checkedTo = 0;
    let committedSpends = 0;
    let startupKills = 0;
    let chainId = '';
    let coin: SpendableCoin;
    {
      const offline = await openChainOffline(datadir, silentLogger());
      chainId = offline.chain.genesis.chainId;
      coin = await largestCoin(offline.chain);
      await offline.close();
    }
    for (let kill = 0; kill < KILLS; kill++) {
      current = NodeProcess.start(datadir, ['--block-interval', '50', '--log-level', 'info']);
      // Every third kill lands in start-up: the first one surely so (nothing
      // starts in 100 ms), later ones anywhere in the first 1.5 s.
      if (kill % 3 === 0) {
        await sleep(kill === 0 ? Math.floor(random() * 100) : Math.floor(random() * 1500));
        if (!current.logs.some((l) => l.msg === 'api listening')) startupKills++;
      } else {
        const url = await current.url(STARTUP_MS);
        let killing = false;
        const submitting = (async () => {
          for (const tx of spendChain(chainId, coin, SPENDS_PER_RUN)) {
            const sent = await postJson<{ status?: string }>(`${url}/api/v1/txs`, {
              hex: toHex(tx.encode()),
            });
            // The WAL can finish a block decided before the last kill: its
            // spends are then confirmed before this run resubmits them.
            const confirmed =
              sent.status === 409 && JSON.stringify(sent.body).includes('already confirmed');
            assert.ok(sent.status === 202 || confirmed, JSON.stringify(sent.body));
          }
        })().catch((error: unknown) => {
          // Only a request cut by the kill is expected to fail.
          if (!killing) throw error;
        });
        // Once a block with a spend is committed, somewhere inside the next few
        // commits, while the rest of the chain of spends is still arriving.
        const node = current;
        await node.waitForLog(
          (l) => l.msg === 'committed block' && Number(l['txs']) > 1,
          STARTUP_MS,
        );
        await sleep(Math.floor(random() * 200));
        killing = true;
        current.child.kill('SIGKILL');
        await current.exited;
        await submitting;
      }
      current.child.kill('SIGKILL');
      await current.exited;
      highestReported = Math.max(highestReported, current.committedHeight);

      const offline = await openChainOffline(datadir, silentLogger());
      try {
        const { chain } = offline;
        const tip = chain.tipHeight;
        assert.ok(
          tip >= highestReported,
          `${where(kill)}: opened at ${tip} but ${highestReported} was reported committed`,
        );
        const result = await verifyChain(chain, {
          full: false,
          scanUtxos: true,
          signatures: offline.signatures,
        });
        assert.equal(result.tipHash, toHex(chain.tip.hash), where(kill));
        assert.equal(result.coinsScanned !== null && result.coinsScanned > 0, true, where(kill));
        committedSpends += await checkIndexes(chain, offline.db, checkedTo);
        checkedTo = tip;
        coin = await largestCoin(chain);
      } finally {
        await offline.close();
      }
    }
    process.stderr.write(
      `seed ${seed}: ${highestReported} blocks, ${committedSpends} spends, ${startupKills} kills in start-up\n`,
    );
    assert.ok(startupKills >= 1, `seed ${seed}: no kill landed in start-up`);
    assert.ok(
      highestReported > KILLS,
      `seed ${seed}: the node committed only ${highestReported} blocks across the kills`,
    );
    assert.ok(committedSpends >= 5, `seed ${seed}: only ${committedSpends} spends were committed`);
    const full = runUtxod(['verify-chain', '--datadir', datadir, '--full']);
    assert.equal(full.status, 0, full.stderr);
  });
});
