/**
 * Mempool catch-up, which is not block sync: while the node is catching up it
 * cannot validate gossiped transactions, so they (and txids announced to it)
 * wait here; once at the tip they go to the mempool, together with what the
 * best few peers hold in theirs (when the protocol offers the txid list).
 */
import type { Logger } from 'pino';
import { VerificationError } from '../../consensus/index.ts';
import type { Transaction } from '../../primitives/index.ts';
import { asError, bytesKey, toHex } from '../../util/index.ts';
import { Penalty } from '../scoring.ts';
import type { SyncClient } from './network.ts';

/** The mempool as sync feeds it (src/mempool's Mempool fits). */
export interface SyncMempool {
  has(txid: Uint8Array): boolean;
  /** `origin` 'peer': these came from the network, not from this node's user. */
  add(tx: Transaction, origin: 'peer'): Promise<unknown>;
}

/** Transactions fetched per transactions-by-id request. */
const MEMPOOL_BATCH = 128;
/** Peers whose mempool is listed after catch-up. */
const MEMPOOL_SOURCES = 3;

/** What catch-up needs from the syncer: usable peers, requests, a way to blame one, a deadline, liveness. */
export interface CatchUpContext {
  /** Ids of peers not known to misbehave, best first. */
  usablePeers(): string[];
  readonly client: Pick<SyncClient, 'getMempoolTxids' | 'getTransactions'>;
  misbehave(peerId: string, penalty: number, code: string, reason: string): void;
  withDeadline<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T>;
  running(): boolean;
}

export class MempoolCatchUp {
  private readonly mempool: SyncMempool;
  private readonly logger: Logger;
  private readonly maxDeferredTxs: number;
  private readonly deferredTxs = new Map<string, { tx: Transaction; peerId: string | null }>();
  private readonly announced = new Map<string, { txid: Uint8Array; peerId: string }>();
  private current: Promise<void> | null = null;

  constructor(opts: { maxDeferredTxs: number }, modules: { mempool: SyncMempool; logger: Logger }) {
    this.maxDeferredTxs = opts.maxDeferredTxs;
    this.mempool = modules.mempool;
    this.logger = modules.logger;
  }

  /** A transaction gossip received while syncing: submitted to the mempool after catch-up. */
  defer(tx: Transaction, peerId: string | null): void {
    if (this.deferredTxs.size >= this.maxDeferredTxs) return;
    this.deferredTxs.set(bytesKey(tx.txid), { tx, peerId });
  }

  /** A txid announced by `peerId` while syncing: fetched from it after catch-up. */
  noteAnnouncement(txid: Uint8Array, peerId: string): void {
    if (this.announced.size >= this.maxDeferredTxs) return;
    this.announced.set(bytesKey(txid), { txid, peerId });
  }

  /**
   * Starts a run in the background unless one is under way; `onDone` gets how
   * many transactions the mempool accepted. A failed run is logged.
   */
  begin(ctx: CatchUpContext, onDone: (added: number) => void): void {
    if (this.current !== null) return;
    this.current = this.run(ctx)
      .then(onDone, (error: unknown) =>
        this.logger.warn({ err: asError(error).message }, 'sync: mempool sync failed'),
      )
      .finally(() => {
        this.current = null;
      });
  }

  /** Resolves once the run under way, if any, has ended. */
  async idle(): Promise<void> {
    await this.current;
  }

  /**
   * Submits the deferred transactions, then fetches the announced ones and
   * the listed mempools of a few peers. Returns how many the mempool accepted.
   */
  async run(ctx: CatchUpContext): Promise<number> {
    const mempool = this.mempool;
    let added = 0;
    const submit = async (tx: Transaction, peer: string | null): Promise<void> => {
      if (mempool.has(tx.txid)) return;
      try {
        await mempool.add(tx, 'peer');
        added++;
      } catch (error) {
        if (error instanceof VerificationError && error.penalty > 0 && peer !== null)
          ctx.misbehave(
            peer,
            error.penalty,
            error.code,
            `transaction ${toHex(tx.txid)}: ${error.reason}`,
          );
      }
    };
    const deferred = [...this.deferredTxs.values()];
    this.deferredTxs.clear();
    for (const { tx, peerId } of deferred) {
      if (!ctx.running()) return added;
      await submit(tx, peerId !== null && ctx.usablePeers().includes(peerId) ? peerId : null);
    }
    // Which txids to fetch from whom.
    const wanted = new Map<string, Map<string, Uint8Array>>();
    const want = (peerId: string, txid: Uint8Array) => {
      if (mempool.has(txid)) return;
      let forPeer = wanted.get(peerId);
      if (forPeer === undefined) {
        forPeer = new Map();
        wanted.set(peerId, forPeer);
      }
      forPeer.set(bytesKey(txid), txid);
    };
    for (const { txid, peerId } of this.announced.values()) want(peerId, txid);
    this.announced.clear();
    const claimed = new Set<string>();
    for (const peer of ctx.usablePeers().slice(0, MEMPOOL_SOURCES)) {
      if (!ctx.running()) return added;
      let txids: Uint8Array[];
      try {
        txids = await ctx.withDeadline((signal) => ctx.client.getMempoolTxids(peer, { signal }));
      } catch (error) {
        this.logger.debug({ peer, err: String(error) }, 'sync: mempool listing failed');
        continue;
      }
      for (const txid of txids.slice(0, this.maxDeferredTxs)) {
        const key = bytesKey(txid);
        if (claimed.has(key)) continue;
        claimed.add(key);
        want(peer, txid);
      }
    }
    for (const [peer, txids] of wanted) {
      if (!ctx.usablePeers().includes(peer)) continue;
      const list = [...txids.values()];
      for (let i = 0; i < list.length && ctx.running(); i += MEMPOOL_BATCH) {
        const batch = list.slice(i, i + MEMPOOL_BATCH);
        const asked = new Set(batch.map(bytesKey));
        let txs: Transaction[];
        try {
          txs = await ctx.withDeadline((signal) =>
            ctx.client.getTransactions(peer, batch, { signal }),
          );
        } catch (error) {
          this.logger.debug({ peer, err: String(error) }, 'sync: transaction fetch failed');
          break;
        }
        for (const tx of txs) {
          if (!asked.has(bytesKey(tx.txid))) {
            ctx.misbehave(
              peer,
              Penalty.violation,
              'SYNC_UNASKED_TX',
              'sent a transaction nobody asked for',
            );
            break;
          }
          await submit(tx, peer);
        }
      }
    }
    if (added > 0) this.logger.info({ added }, 'sync: mempool filled from peers');
    return added;
  }
}
