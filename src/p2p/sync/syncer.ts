/**
 * Block sync (catch-up): a node behind its peers downloads block ranges from
 * several peers at once inside a moving window above its tip, checks each
 * range cheaply (heights, linkage, sanity, commit certificates in one
 * parallel signature batch), and connects blocks strictly in order through
 * the node's single import path. A range whose peer stalls, fails, or serves
 * anything invalid goes back to the queue for another peer; the culprit is
 * penalised. When the tip reaches the target, sync hands over to gossip
 * ('synced'), fetches the mempool from peers, and keeps polling peer status to
 * step in again if the node falls behind.
 *
 * The parts: `PeerTable` (peers, their claims and proofs, the trusted
 * target), `BlockDownload` (blocks over the reusable `RangeScheduler`, and
 * the import loop), `SyncProgress` (speed, the progress log) and
 * `MempoolCatchUp`. This file joins them and keeps the sync state. No
 * sockets and no global time in here: peers come through `PeerSource` and
 * `SyncClient` (network.ts), time through `Clock`.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { Transaction } from '../../primitives/index.ts';
import { type Clock, systemClock, type Timer } from '../../util/index.ts';
import { BlockDownload } from './block-download.ts';
import { withDeadline } from './deadline.ts';
import { MempoolCatchUp } from './mempool-catchup.ts';
import type { SyncMetrics } from './metrics.ts';
import type { PeerInfo, PeerSource, SyncClient } from './network.ts';
import { PeerTable } from './peer-table.ts';
import { progressFields, SyncProgress } from './progress.ts';
import type { SyncState, SyncStatus } from './status.ts';
import {
  DEFAULT_SYNC_OPTIONS,
  type SyncChain,
  type SyncEvents,
  type SyncModules,
  type SyncOptions,
} from './syncer-types.ts';

export {
  DEFAULT_SYNC_OPTIONS,
  type SyncChain,
  type SyncEvents,
  type SyncImporter,
  type SyncMempool,
  type SyncModules,
  type SyncOptions,
} from './syncer-types.ts';

const TICK_MS = 1_000;

export class BlockSyncer {
  readonly events = new EventEmitter<SyncEvents>();
  private readonly opts: SyncOptions;
  private readonly chain: SyncChain;
  private readonly source: PeerSource;
  private readonly client: SyncClient;
  private readonly logger: Logger;
  private readonly metrics: SyncMetrics | null;
  private readonly clock: Clock;
  private readonly table: PeerTable;
  private readonly download: BlockDownload;
  private readonly progress = new SyncProgress();
  private readonly catchUp: MempoolCatchUp | null;

  private running = false;
  private currentState: SyncState = 'idle';
  private pumpQueued = false;
  private unsubscribe: Array<() => void> = [];
  private timers: { tick: Timer | null; status: Timer | null; progress: Timer | null } = {
    tick: null,
    status: null,
    progress: null,
  };
  private lastStatusRound = Number.NEGATIVE_INFINITY;
  private lagSince: number | null = null;
  private syncStartedAt: { t: number; height: number } | null = null;

  constructor(opts: Partial<SyncOptions>, modules: SyncModules) {
    this.opts = { ...DEFAULT_SYNC_OPTIONS, ...opts };
    this.chain = modules.chain;
    this.source = modules.peers;
    this.client = modules.client;
    this.logger = modules.logger;
    this.metrics = modules.metrics;
    this.clock = modules.clock ?? systemClock;
    this.catchUp =
      modules.mempool === null
        ? null
        : new MempoolCatchUp(
            { maxDeferredTxs: this.opts.maxDeferredTxs },
            { mempool: modules.mempool, logger: modules.logger },
          );
    if (this.opts.maxRequestsPerPeer < 1 || this.opts.minAgreeingPeers < 1)
      throw new RangeError('sync request limits and agreeing peers must be at least 1');
    this.table = new PeerTable(this.opts, {
      source: this.source,
      client: this.client,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      tip: () => this.chain.tip,
      onChange: () => this.requestPump(),
      // Nothing this peer sent and we have not connected yet is used.
      onCutOff: (peerId) =>
        this.download.scheduler.requeuePeer(peerId, ['requested', 'verifying', 'ready'], true),
    });
    this.download = new BlockDownload(this.opts, {
      chain: this.chain,
      importer: modules.importer,
      signatures: modules.signatures,
      table: this.table,
      client: this.client,
      progress: this.progress,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
      running: () => this.running,
      onChange: () => this.requestPump(),
      onProgress: (height) => this.events.emit('progress', height),
    });
  }

  // ---- public surface ------------------------------------------------------

  get state(): SyncState {
    return this.currentState;
  }

  get currentHeight(): number {
    return this.chain.tipHeight;
  }

  /**
   * The height sync works towards as far as anyone outside can tell: proven by
   * valid blocks, agreed by several peers, or claimed by a peer that backs its
   * claims (never below our own tip). A lone unproven claim is only probed.
   */
  get targetHeight(): number {
    return this.table.trustedTarget(this.chain.tipHeight);
  }

  get blocksPerSecond(): number {
    return this.progress.blocksPerSecond(this.clock.now());
  }

  status(): SyncStatus {
    const currentHeight = this.chain.tipHeight;
    const targetHeight = this.targetHeight;
    const now = this.clock.now();
    const blocksPerSecond = this.progress.blocksPerSecond(now);
    return {
      state: this.currentState,
      currentHeight,
      targetHeight,
      blocksPerSecond: Math.round(blocksPerSecond * 100) / 100,
      etaSeconds: this.progress.etaSeconds(now, targetHeight - currentHeight),
      peers: this.table.usable().length,
      rangesInFlight: this.download.scheduler.inFlight,
    };
  }

  /** For /health/ready: true when the trusted target is more than `thresholdBlocks` ahead. */
  isFarBehind(thresholdBlocks: number): boolean {
    return this.targetHeight - this.chain.tipHeight > thresholdBlocks;
  }

  /**
   * Gossip should hand transactions to `deferTransaction` instead of the
   * mempool while this is true: catching up towards a trusted target (an
   * unproven claim does not hold relay back).
   */
  get deferringTransactions(): boolean {
    return (
      this.running &&
      this.currentState === 'syncing' &&
      this.targetHeight - this.chain.tipHeight > this.opts.followLagBlocks
    );
  }

  /** A transaction gossip received while syncing: submitted to the mempool after catch-up. */
  deferTransaction(tx: Transaction, peerId: string | null): void {
    this.catchUp?.defer(tx, peerId);
  }

  /** A txid announced by `peerId` while syncing: fetched from it after catch-up. */
  noteTxAnnouncement(txid: Uint8Array, peerId: string): void {
    this.catchUp?.noteAnnouncement(txid, peerId);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    const events = this.source.events;
    const onStatus = (info: PeerInfo) => {
      const ps = this.table.get(info.peerId);
      if (ps === undefined) this.addPeer(info);
      else this.table.acceptStatus(ps, info.status);
      this.requestPump();
    };
    const onGone = ({ peerId }: { peerId: string }) => this.removePeer(peerId);
    const onAhead = ({ peerId, height }: { peerId: string; height: number }) =>
      this.onAheadHint(peerId, height);
    events.on('peer:status', onStatus).on('peer:disconnected', onGone).on('block:ahead', onAhead);
    this.unsubscribe.push(() =>
      events
        .off('peer:status', onStatus)
        .off('peer:disconnected', onGone)
        .off('block:ahead', onAhead),
    );
    for (const info of this.source.connectedPeers()) this.addPeer(info);
    this.repeat('tick', TICK_MS, () => this.pump());
    this.repeat('status', this.opts.statusIntervalMs, () => this.refreshStatuses());
    this.repeat('progress', this.opts.progressLogIntervalMs, () => {
      const buffered = this.download.scheduler.bufferedBytes;
      if (this.currentState === 'syncing')
        this.logger.info(progressFields(this.status(), buffered), 'sync progress');
    });
    this.requestPump();
  }

  /** Stops downloading; resolves once the block being connected, if any, is on disk. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    for (const key of ['tick', 'status', 'progress'] as const) {
      const timer = this.timers[key];
      if (timer !== null) this.clock.clearTimeout(timer);
      this.timers[key] = null;
    }
    this.download.scheduler.clear();
    this.table.abortAll();
    await this.download.idle();
    await this.catchUp?.idle();
    this.setState('idle');
  }

  // ---- peers -------------------------------------------------------------

  private addPeer(info: PeerInfo): void {
    if (!this.running) return;
    if (this.table.get(info.peerId) !== undefined) this.removePeer(info.peerId);
    this.table.add(info);
  }

  private removePeer(peerId: string): void {
    if (!this.table.remove(peerId)) return;
    // Downloaded and checked blocks stay: they are final whoever served them.
    this.download.scheduler.requeuePeer(peerId, ['requested'], false);
    this.requestPump();
  }

  /**
   * `peerId` relayed a block at `height` above our tip + 1. Gossip only
   * imports tip + 1, so a missed block stalls it until sync fills the gap:
   * fetch now rather than after the follow grace. The height is a claim of
   * the relaying peer; if it cannot serve it, the claim is refuted.
   */
  private onAheadHint(peerId: string, height: number): void {
    if (height <= this.chain.tipHeight + 1) return;
    if (!this.table.hint(peerId, height)) return;
    if (this.currentState === 'synced') this.lagSince = Number.NEGATIVE_INFINITY;
    this.requestPump();
  }

  // ---- scheduling --------------------------------------------------------

  /** Coalesces many triggers into one pass on the next microtask. */
  private requestPump(): void {
    if (this.pumpQueued || !this.running) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.running) return;
    const now = this.clock.now();
    const tip = this.chain.tipHeight;
    const scheduler = this.download.scheduler;
    scheduler.dropThrough(tip);
    // Downloads go as far as any usable peer claims: that is how a claim is put to the test.
    const claimed = this.table.claimedTarget(tip);
    scheduler.trimAbove(claimed);
    if (claimed > tip && this.currentState === 'synced') {
      this.lagSince ??= now;
    } else if (claimed <= tip) {
      this.lagSince = null;
    }
    const following = this.currentState === 'synced' && claimed - tip <= this.opts.followLagBlocks;
    const fetch =
      !following || (this.lagSince !== null && now - this.lagSince >= this.opts.followGraceMs);
    // Ranges are always full size, even past the target: near the tip the
    // peers keep producing, and a peer answers up to its own tip (a prefix).
    if (fetch && now >= this.download.backoffUntil)
      scheduler.extend(tip + 1, Math.min(claimed, tip + this.opts.windowBlocks));
    scheduler.assignAll(now);
    this.updateState(now, tip, claimed);
    this.download.importReady();
  }

  // ---- state -------------------------------------------------------------

  private updateState(now: number, tip: number, claimed: number): void {
    // Once synced, only a trusted target takes the node out of it: a lone
    // claim is probed without the node turning "not ready" or holding back relay.
    const target = this.currentState === 'synced' ? this.targetHeight : claimed;
    const outstanding = this.download.scheduler.ranges.some((r) => r.start <= target);
    let next: SyncState;
    if (!this.table.known) {
      next = this.currentState === 'synced' ? 'synced' : 'idle';
    } else if (tip >= target && !outstanding) {
      if (this.currentState !== 'synced' && now - this.lastStatusRound > 1_000) {
        // Before declaring victory, ask everyone once more: they kept producing meanwhile.
        this.refreshStatuses();
        return;
      }
      next = 'synced';
    } else if (this.currentState === 'synced' && target - tip <= this.opts.followLagBlocks) {
      // Following: a gap this small is filled by gossip, or by a fetch after the grace.
      next = 'synced';
    } else {
      next = 'syncing';
    }
    this.setState(next);
  }

  private refreshStatuses(): void {
    this.lastStatusRound = this.clock.now();
    this.table.refreshStatuses();
  }

  private setState(next: SyncState): void {
    if (next === this.currentState) return;
    const previous = this.currentState;
    this.currentState = next;
    const tip = this.chain.tipHeight;
    if (next === 'syncing') {
      this.syncStartedAt = { t: this.clock.now(), height: tip };
      this.logger.info({ height: tip, target: this.targetHeight }, 'sync: catching up');
    } else if (next === 'synced') {
      const started = this.syncStartedAt;
      const seconds = started === null ? 0 : (this.clock.now() - started.t) / 1000;
      this.logger.info(
        {
          height: tip,
          blocks: started === null ? 0 : tip - started.height,
          seconds: Math.round(seconds * 10) / 10,
          from: previous,
        },
        'sync: caught up; following gossip',
      );
      this.syncStartedAt = null;
      this.startMempoolSync();
    }
    this.events.emit('state', next);
  }

  // ---- timers ------------------------------------------------------------

  /** Runs `task` every `ms` while running; `key` names its slot for stop(). */
  private repeat(key: 'tick' | 'status' | 'progress', ms: number, task: () => void): void {
    this.timers[key] = this.clock.setTimeout(() => {
      this.timers[key] = null;
      if (!this.running) return;
      task();
      this.repeat(key, ms, task);
    }, ms);
  }

  // ---- mempool after catch-up ----------------------------------------------

  private startMempoolSync(): void {
    if (!this.opts.mempoolSync || this.catchUp === null || !this.running) return;
    this.catchUp.begin(
      {
        usablePeers: () => this.table.usable().map((ps) => ps.peerId),
        client: this.client,
        misbehave: (peerId, penalty, code, reason) => {
          const ps = this.table.get(peerId);
          if (ps !== undefined) this.table.misbehave(ps, penalty, code, reason);
        },
        withDeadline: (run) => withDeadline(this.clock, this.opts.requestTimeoutMs, run),
        running: () => this.running,
      },
      (added) => this.events.emit('mempoolSynced', added),
    );
  }
}
