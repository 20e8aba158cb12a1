/**
 * Block sync catch-up rate over the real network layer: a fresh node (in this
 * process, default configuration: fsync'd batches, 2 verify workers,
 * signature cache) syncs BLOCKS blocks carrying TXS_PER_BLOCK signed
 * transfers each from two `utxod start` peer processes over loopback
 * (libp2p TCP + noise + yamux, req/resp blocks-by-range). Baseline, in the
 * same run: the same kind of node connecting the same blocks read from a
 * local copy of the chain's LevelDB (reads pipelined ahead of the imports).
 * Both run ROUNDS times, alternating, on fresh data directories; the median
 * of each counts.
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEVNET_MNEMONIC } from '../../src/cli/commands/keys.ts';
import { openChainOffline } from '../../src/cli/offline.ts';
import { buildTransaction, type SpendableCoin } from '../../src/client/tx-builder.ts';
import { loadConfig } from '../../src/config/index.ts';
import { accountPath, deriveKey, mnemonicToSeed } from '../../src/crypto/hd-keys.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { dataPaths, loadValidatorKey } from '../../src/node/datadir.ts';
import { UtxoNode } from '../../src/node/node.ts';
import { COIN } from '../../src/primitives/amount.ts';
import type { Block } from '../../src/primitives/block.ts';
import type { CommitCertificate } from '../../src/primitives/commit.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import type { Transaction } from '../../src/primitives/transaction.ts';
import { bytesEqual } from '../../src/util/bytes.ts';
import { connectSoloBlock } from '../../test/support/chain-fixture.ts';
import { initNodeDir, NodeProcess } from '../../test/support/node-process.ts';
import { alternate, type BenchResult, median, pairedRatio, size, spreadOf } from '../lib.ts';

const BLOCKS = size(2_500, 300);
const TXS_PER_BLOCK = 8;
const ROUNDS = size(3, 1);

export async function run(): Promise<BenchResult[]> {
  const root = mkdtempSync(join(tmpdir(), 'utxod-bench-sync-'));
  const peers: NodeProcess[] = [];
  try {
    const sourceDir = join(root, 'source');
    initNodeDir(sourceDir);
    const genesisFile = join(sourceDir, 'genesis.json');
    const txCount = await seed(sourceDir, BLOCKS, TXS_PER_BLOCK);
    const localCopy = join(root, 'local-copy');
    cpSync(join(sourceDir, 'chain'), localCopy, { recursive: true });
    const peerDir = join(root, 'peer2');
    cpSync(sourceDir, peerDir, { recursive: true });

    // Two serving peers (their own processes; no block production).
    for (const dir of [sourceDir, peerDir]) {
      peers.push(NodeProcess.start(dir, ['--p2p-host', '127.0.0.1', '--no-empty-blocks']));
    }
    const addrs: string[] = [];
    for (const peer of peers) {
      addrs.push(await peer.listenAddr(60_000));
    }
    // Alternating rounds, fresh data directories each time; medians of the
    // per-round ratios, with their spread (the machine is shared).
    let dirs = 0;
    const fresh = () => {
      const dir = join(root, `node-${dirs++}`);
      initNodeDir(dir, genesisFile);
      return dir;
    };
    const rate = (ms: number) => (BLOCKS * 1000) / ms;
    const rounds = await alternate(ROUNDS, {
      local: async () => rate(await connectFromLocal(fresh(), localCopy)),
      twoPeers: async () => rate(await syncFromPeers(fresh(), addrs)),
      onePeer: async () => rate(await syncFromPeers(fresh(), addrs.slice(0, 1))),
    });
    const baselineName = `connect ${BLOCKS} blocks x ${TXS_PER_BLOCK} txs from local storage`;
    const vsLocal = (name: string, samples: number[]): BenchResult => ({
      suite: 'sync',
      name,
      value: median(samples),
      unit: 'blocks/s',
      ...pairedRatio(samples, rounds.local),
      baselineName,
      goal: { value: 0.8, better: 'higher' },
    });
    return [
      {
        suite: 'sync',
        name: `${baselineName} (baseline)`,
        value: median(rounds.local),
        unit: 'blocks/s',
        spread: spreadOf(rounds.local),
      },
      vsLocal('catch-up from 2 peer processes over loopback, libp2p', rounds.twoPeers),
      vsLocal('catch-up from 1 peer process over loopback, libp2p', rounds.onePeer),
      {
        suite: 'sync',
        name: `catch-up transactions from 2 peers (${txCount} txs)`,
        value: (median(rounds.twoPeers) * txCount) / BLOCKS,
        unit: 'tx/s',
      },
    ];
  } finally {
    for (const peer of peers) peer.child.kill('SIGKILL');
    await Promise.all(peers.map((p) => p.exited));
    rmSync(root, { recursive: true, force: true });
  }
}

/** Writes `blocks` blocks of `perBlock` transfers each into the stopped datadir's chain. */
export async function seed(dir: string, blocks: number, perBlock: number): Promise<number> {
  const key = loadValidatorKey(dataPaths(dir))!;
  const offline = await openChainOffline(dir, silentLogger());
  const { chain } = offline;
  const alice = deriveKey(mnemonicToSeed(DEVNET_MNEMONIC), accountPath(1, 0, 0));
  const aliceLock = pubkeyLock(alice.publicKey);
  const chainId = chain.genesis.chainId;
  let txCount = 0;
  try {
    const genesisTx = (await chain.requireBlockAt(0)).txs[0]!;
    const index = genesisTx.outputs.findIndex((o) => bytesEqual(o.lock.hash, aliceLock.hash));
    const premine: SpendableCoin = {
      outpoint: { txid: genesisTx.txid, index },
      amount: genesisTx.outputs[index]!.amount,
      lock: aliceLock,
    };
    const share = premine.amount / BigInt(perBlock + 1);
    const fanOut = buildTransaction({
      chainId,
      coins: [premine],
      outputs: Array.from({ length: perBlock }, () => ({ amount: share, lock: aliceLock })),
      changeLock: aliceLock,
      feeRate: 0n,
      keys: [alice],
    });
    const coins: SpendableCoin[] = Array.from({ length: perBlock }, (_, i) => ({
      outpoint: { txid: fanOut.txid, index: i },
      amount: share,
      lock: aliceLock,
    }));
    const payee = pubkeyLock(
      deriveKey(mnemonicToSeed(DEVNET_MNEMONIC), accountPath(1, 0, 9)).publicKey,
    );
    for (let h = 1; h <= blocks; h++) {
      let txs: Transaction[];
      if (h === 1) {
        txs = [fanOut];
      } else {
        txs = coins.map((coin, i) => {
          const tx = buildTransaction({
            chainId,
            coins: [coin],
            outputs: [{ amount: COIN / 1000n, lock: payee }],
            changeLock: aliceLock,
            feeRate: 0n,
            keys: [alice],
          });
          const change = tx.outputs.findIndex((o) => bytesEqual(o.lock.hash, aliceLock.hash));
          coins[i] = {
            outpoint: { txid: tx.txid, index: change },
            amount: tx.outputs[change]!.amount,
            lock: aliceLock,
          };
          return tx;
        });
      }
      await connectSoloBlock(chain, key, txs);
      txCount += txs.length;
    }
  } finally {
    await offline.close();
  }
  return txCount;
}

function nodeConfig(dir: string, bootstrap: string[]) {
  return loadConfig(dir, {
    rpcPort: 0,
    metricsPort: 0,
    p2pPort: 0,
    p2pHost: '127.0.0.1',
    bootstrap,
    logLevel: 'silent',
  });
}

/** Milliseconds for a fresh node to connect every block read from `chainCopy`. */
async function connectFromLocal(dir: string, chainCopy: string): Promise<number> {
  const node = await UtxoNode.init(nodeConfig(dir, []), { logger: silentLogger() });
  const copyDir = join(dir, 'copy-datadir');
  cpSync(join(dir, 'genesis.json'), join(copyDir, 'genesis.json'));
  cpSync(join(dir, 'utxod.json'), join(copyDir, 'utxod.json'));
  cpSync(chainCopy, join(copyDir, 'chain'), { recursive: true });
  const local = await openChainOffline(copyDir, silentLogger());
  try {
    const read = async (h: number): Promise<{ block: Block; commit: CommitCertificate }> => ({
      block: await local.chain.requireBlockAt(h),
      commit: await local.chain.requireCommitAt(h),
    });
    const started = performance.now();
    let next = read(1);
    for (let h = 1; h <= BLOCKS; h++) {
      const { block, commit } = await next;
      if (h < BLOCKS) next = read(h + 1);
      await node.importer.importBlock(block, commit, 'sync');
    }
    return performance.now() - started;
  } finally {
    await local.close();
    await node.close();
  }
}

/** Milliseconds from start until a fresh node connected to `addrs` has synced every block. */
async function syncFromPeers(dir: string, addrs: string[]): Promise<number> {
  const node = await UtxoNode.init(nodeConfig(dir, addrs), { logger: silentLogger() });
  try {
    const started = performance.now();
    await node.start();
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(
        () => reject(new Error(`sync stalled: ${JSON.stringify(node.syncer.status())}`)),
        300_000,
      );
      const poll = setInterval(() => {
        if (node.chain.tipHeight >= BLOCKS) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 5);
    });
    return performance.now() - started;
  } finally {
    await node.close();
  }
}
