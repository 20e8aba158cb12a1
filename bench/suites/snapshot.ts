/**
 * Snapshots: how much faster a node joins from a snapshot than by replaying
 * blocks, and what writing a snapshot costs. One in-process chain of BLOCKS
 * blocks, each with a transfer creating OUTPUTS coins (BLOCKS x OUTPUTS
 * coins in the UTXO set). In the same run:
 *
 * - block replay (baseline): a fresh chain connects every block again with
 *   every rule and signature (no signature cache), read from the source's
 *   LevelDB: block sync without the network, so a lower bound of its time;
 * - state sync: verify the manifest, fetch (from disk) and hash-check every
 *   chunk, rebuild the chain and check the UTXO root, also without the
 *   network. The ratio state sync / replay is the figure (goal <= 0.1);
 *   The same with the coins' MuHash on the calling thread (`hashWorkers: 0`)
 *   shows what the worker threads gain;
 * - snapshot create time, per million coins.
 *
 * Both sides skip the network, which favours replay (its network cost is
 * one request per 32 blocks, state sync's one per chunk of ~12,600 coins).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { Chain } from '../../src/chain/chain.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { ParallelVerifier } from '../../src/crypto/verify-pool.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import {
  decodeManifest,
  rebuildChain,
  SnapshotStore,
  verifyManifest,
} from '../../src/snapshot/index.ts';
import { Database } from '../../src/storage/db.ts';
import { bytesEqual } from '../../src/util/bytes.ts';
import { CHAIN_ID, openTestChain, testGenesis, testKey } from '../../test/support/chain-fixture.ts';
import { alternate, type BenchResult, median, size, spreadOf, timeOnce } from '../lib.ts';

const BLOCKS = size(20_000, 300);
const OUTPUTS = size(20, 20);
/** Old coins each block spends (each a signature): net OUTPUTS - SPENDS + 2 coins per block. */
const SPENDS = 10;
/** Rounds of each state sync variant. */
const ROUNDS = size(3, 3);

export async function run(): Promise<BenchResult[]> {
  const work = mkdtempSync(join(tmpdir(), 'utxod-bench-snap-'));
  const validator = testKey(0);
  const owner = testKey(1);
  const genesis = testGenesis({ validator, funded: [owner], amount: 10_000_000n * COIN });
  const source = await openTestChain({ genesis, validator, cacheBytes: 64 << 20 });
  try {
    // The source chain: one transfer per block, OUTPUTS coins to a payee plus change.
    const allocation = (await source.chain.requireBlockAt(0)).txs[0]!;
    let coin: SpendableCoin = {
      outpoint: { txid: allocation.txid, index: 0 },
      amount: allocation.outputs[0]!.amount,
      lock: allocation.outputs[0]!.lock,
    };
    const payeeKey = testKey(2);
    const payee = pubkeyLock(payeeKey.publicKey);
    const change = pubkeyLock(owner.publicKey);
    // Old payee coins, spent SPENDS at a time: history grows faster than the UTXO set.
    const unspent: SpendableCoin[] = [];
    for (let h = 1; h <= BLOCKS; h++) {
      const tx = buildTransaction({
        chainId: CHAIN_ID,
        coins: [coin],
        outputs: Array.from({ length: OUTPUTS }, () => ({ amount: COIN, lock: payee })),
        changeLock: change,
        feeRate: 0n,
        keys: [owner],
      });
      const index = tx.outputs.findIndex((o) => bytesEqual(o.lock.hash, change.hash));
      coin = {
        outpoint: { txid: tx.txid, index },
        amount: tx.outputs[index]!.amount,
        lock: change,
      };
      const txs = [tx];
      if (unspent.length >= SPENDS) {
        const spent = unspent.splice(0, SPENDS);
        txs.push(
          buildTransaction({
            chainId: CHAIN_ID,
            coins: spent,
            outputs: [{ amount: BigInt(SPENDS) * COIN, lock: payee }],
            changeLock: payee,
            feeRate: 0n,
            keys: [payeeKey],
          }),
        );
      }
      for (const t of txs)
        t.outputs.forEach((o, i) => {
          if (bytesEqual(o.lock.hash, payee.hash))
            unspent.push({ outpoint: { txid: t.txid, index: i }, amount: o.amount, lock: payee });
        });
      const block = await assembleBlock(source.chain, {
        txs,
        fees: 0n,
        proposer: validator.publicKey,
        rewardLock: pubkeyLock(validator.publicKey),
        time: genesis.time + h * 1000,
      });
      await source.chain.connectBlock(block, source.commitFor(block), { now: null });
    }
    const store = new SnapshotStore({ dir: join(work, 'snapshots') });
    const view = source.db.readView();
    let coins = 0n;
    const createMs = await timeOnce(async () => {
      coins = (await store.create(view, source.chain)).coins;
    });
    await view.close();
    const height = source.chain.tipHeight;

    const verifier = await ParallelVerifier.init({ workers: 2 });
    const signatures = new SignatureChecker({ verifier, cache: null });
    try {
      const replayMs = await timeOnce(async () => {
        const db = await Database.open({ path: join(work, 'replay'), syncWrites: false });
        try {
          const chain = await Chain.init(
            { utxoCacheBytes: 64 << 20 },
            { db, genesis, signatures, logger: silentLogger() },
          );
          for (let h = 1; h <= height; h++) {
            const block = await source.chain.requireBlockAt(h);
            await chain.connectBlock(block, await source.chain.requireCommitAt(h), { now: null });
          }
        } finally {
          await db.close();
        }
      });
      const stateSync = (hashWorkers: number | undefined) => async () => {
        const dir = join(work, 'state-synced');
        rmSync(dir, { recursive: true, force: true });
        return timeOnce(async () => {
          const manifest = decodeManifest(await store.manifestBytes(height));
          await verifyManifest(manifest, {
            chainIdHash: source.chain.chainIdHash,
            genesisValidators: source.chain.validators,
            trusted: null,
            verifier,
          });
          await rebuildChain(
            { chainDir: dir, ...(hashWorkers === undefined ? {} : { hashWorkers }) },
            {
              manifest,
              genesisHash: source.chain.genesisHash,
              fetchChunk: (i) => store.chunk(height, i),
            },
          );
        });
      };
      // Cheap next to the replay: several alternating rounds, the median against the one replay.
      const rounds = await alternate(ROUNDS, {
        workers: stateSync(undefined),
        inline: stateSync(0),
      });
      const stateSyncMs = median(rounds.workers);
      const inlineMs = median(rounds.inline);
      const label = `${height} blocks, ${coins} coins`;
      return [
        {
          suite: 'snapshot',
          name: `block replay (${label}) (baseline)`,
          value: replayMs / 1000,
          unit: 's',
        },
        {
          suite: 'snapshot',
          name: `state sync from a snapshot (${label})`,
          value: stateSyncMs / 1000,
          unit: 's',
          ratio: stateSyncMs / replayMs,
          baselineName: 'block replay',
          goal: { value: 0.1, better: 'lower' },
          spread: spreadOf(rounds.workers),
        },
        {
          suite: 'snapshot',
          name: `state sync, coins hashed on one thread (${label})`,
          value: inlineMs / 1000,
          unit: 's',
          ratio: inlineMs / replayMs,
          baselineName: 'block replay',
          spread: spreadOf(rounds.inline),
        },
        {
          suite: 'snapshot',
          name: `snapshot create, per million coins (${coins} coins)`,
          value: (createMs / 1000) * (1e6 / Number(coins)),
          unit: 's',
        },
      ];
    } finally {
      await verifier.close();
    }
  } finally {
    await source.destroy();
    rmSync(work, { recursive: true, force: true });
  }
}
