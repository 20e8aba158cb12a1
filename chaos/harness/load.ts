/**
 * A load generator: signed transactions from devnet account 0 through the
 * API, spread over the live nodes. It first splits one coin into `lanes`
 * coins, then keeps one transaction in flight per lane (each spends its lane's
 * last change output), resubmitting a transaction that every node has lost
 * (a killed node's mempool) so that the lanes survive crashes. Every txid seen
 * committed is kept: the scenario checks each is on every node at the end.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  buildTransaction,
  lockToAddress,
  pubkeyLock,
  type SpendableCoin,
} from '../../src/client/index.ts';
import { type KeyPair, readKeyFile } from '../../src/crypto/key-file.ts';
import type { Lock } from '../../src/primitives/lock.ts';
import { bytesEqual, fromHex, toHex } from '../../src/util/bytes.ts';
import { ApiError, type NodeApi } from './api.ts';
import { UTXOD_BIN } from './cluster.ts';

const COIN = 100_000_000n;
const FEE_RATE = 5_000n;

interface Lane {
  coin: SpendableCoin;
  pending: { txid: string; hex: string; since: number; change: SpendableCoin } | null;
}

export class LoadGenerator {
  readonly committed = new Set<string>();
  submitted = 0;
  rejected = 0;
  private readonly lanes: Lane[] = [];
  private running = false;
  private loop: Promise<void> | null = null;
  private key!: KeyPair;
  private lock!: Lock;
  private chainId = '';
  private nextApi = 0;

  private readonly apis: () => NodeApi[];
  private readonly opts: { dir: string; lanes: number; tickMs?: number };

  constructor(apis: () => NodeApi[], opts: { dir: string; lanes: number; tickMs?: number }) {
    this.apis = apis;
    this.opts = opts;
  }

  /** Derives the premined key, fans one coin out into the lanes and waits until that is committed. */
  async prepare(chainId: string, hrp: string): Promise<void> {
    this.chainId = chainId;
    const keyPath = join(this.opts.dir, 'load-key.json');
    execFileSync(
      process.execPath,
      [UTXOD_BIN, 'keys', 'derive', '--index', '0', '--out', keyPath],
      { stdio: 'ignore' },
    );
    this.key = readKeyFile(keyPath);
    this.lock = pubkeyLock(this.key.publicKey);
    const api = this.pickApi();
    const address = lockToAddress(this.lock, hrp);
    const coins = (await api.utxos(address)).map(
      (u): SpendableCoin => ({
        outpoint: { txid: fromHex(u.txid, 32), index: u.index },
        amount: BigInt(u.amount),
        lock: this.lock,
      }),
    );
    const outputs = Array.from({ length: this.opts.lanes }, () => ({
      amount: 1000n * COIN,
      lock: this.lock,
    }));
    const fanOut = buildTransaction({
      chainId,
      coins: coins.slice(0, 1),
      outputs,
      changeLock: this.lock,
      feeRate: FEE_RATE,
      keys: [this.key],
    });
    await api.submit(toHex(fanOut.encode()));
    const txid = toHex(fanOut.txid);
    for (let i = 0; ; i++) {
      if ((await api.txStatus(txid)) === 'committed') break;
      if (i > 120) throw new Error('the fan-out transaction was not committed within 60 s');
      await sleep(500);
    }
    this.committed.add(txid);
    for (let i = 0; i < this.opts.lanes; i++) {
      this.lanes.push({
        coin: { outpoint: { txid: fanOut.txid, index: i }, amount: 1000n * COIN, lock: this.lock },
        pending: null,
      });
    }
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      await Promise.all(
        this.lanes.map((lane) => this.step(lane).catch((error: unknown) => this.onError(error))),
      );
      await sleep(this.opts.tickMs ?? 250);
    }
  }

  private async step(lane: Lane): Promise<void> {
    const api = this.pickApi();
    if (lane.pending === null) {
      const tx = buildTransaction({
        chainId: this.chainId,
        coins: [lane.coin],
        outputs: [{ amount: COIN, lock: this.lock }],
        changeLock: this.lock,
        feeRate: FEE_RATE,
        keys: [this.key],
      });
      const changeIndex = tx.outputs.findIndex(
        (o, i) => i > 0 && bytesEqual(o.lock.hash, this.lock.hash),
      );
      const change = tx.outputs[changeIndex];
      if (change === undefined) throw new Error('no change output');
      lane.pending = {
        txid: toHex(tx.txid),
        hex: toHex(tx.encode()),
        since: Date.now(),
        change: {
          outpoint: { txid: tx.txid, index: changeIndex },
          amount: change.amount,
          lock: this.lock,
        },
      };
      this.submitted++;
      await api.submit(lane.pending.hex);
      return;
    }
    const status = await api.txStatus(lane.pending.txid);
    if (status === 'committed') {
      this.committed.add(lane.pending.txid);
      lane.coin = lane.pending.change;
      lane.pending = null;
    } else if (status === 'unknown' && Date.now() - lane.pending.since > 5_000) {
      // Lost with a killed node's mempool (or never relayed): the input is still ours, send it again.
      lane.pending.since = Date.now();
      await api.submit(lane.pending.hex);
    }
  }

  private onError(error: unknown): void {
    // Nodes being killed, paused or partitioned refuse or time out: that is the point of the run.
    if (
      error instanceof ApiError ||
      (error as Error).name === 'TimeoutError' ||
      // fetch reports an unreachable node as TypeError('fetch failed'); any other TypeError is a bug.
      ((error as Error).name === 'TypeError' && (error as Error).message === 'fetch failed')
    ) {
      this.rejected++;
      return;
    }
    throw error;
  }

  private pickApi(): NodeApi {
    const apis = this.apis();
    if (apis.length === 0) throw new ApiError(0, 'no live node to send to');
    this.nextApi = (this.nextApi + 1) % apis.length;
    return apis[this.nextApi]!;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
