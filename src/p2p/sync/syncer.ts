/**
 * Block sync (catch-up): a node behind its peers downloads block ranges from
 * several peers at once inside a moving window above its tip, checks each
 * range cheaply (heights, linkage, sanity, commit certificates in one
 * parallel signature batch), and connects blocks strictly in order through
 * the node's single import path. A range whose peer stalls, fails, or serves
 * anything invalid goes back to the queue for another peer; the culprit is
 * penalised. When the tip reaches the best height peers report, sync hands
 * over to gossip ('synced'), fetches the mempool from peers, and keeps
 * polling peer status to step in again if the node falls behind.
 *
 * No sockets and no global time in here: peers come through `SyncPeerSet`,
 * time through `Clock`.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ConsensusParams, ValidatorSet } from '../../consensus/index.ts';
import { VerificationError } from '../../consensus/index.ts';
import type {
  Block,
  CommitCertificate,
  Outpoint,
  Transaction,
  TxOutput,
} from '../../primitives/index.ts';
import { asError, bytesEqual, type Clock, systemClock, type Timer } from '../../util/index.ts';
import { bansAtOnce, Penalty } from '../scoring.ts';
import { abortable, withDeadline } from './deadline.ts';
import { SyncError } from './errors.ts';
import { MempoolCatchUp, type SyncMempool } from './mempool-catchup.ts';
import type { SyncMetrics } from './metrics.ts';
import type { BlockWithCommit, PeerChainStatus, SyncPeer, SyncPeerSet } from './peer-source.ts';
import { SyncProgress } from './progress.ts';
import { type CoinReader, checkRange, type RangeSignatureChecker } from './range-check.ts';
import type { SyncState, SyncStatus } from './status.ts';
import {
  DEFAULT_SYNC_OPTIONS,
  type PeerState,
  type Range,
  type SyncChain,
  type SyncEvents,
  type SyncImporter,
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
  private readonly importer: SyncImporter;
  private readonly peerSet: SyncPeerSet;
  private readonly signatures: RangeSignatureChecker | null;
  private readonly logger: Logger;
  private readonly metrics: SyncMetrics | null;
  private readonly clock: Clock;
  private readonly readCoins: CoinReader | null;

  private readonly peerStates = new Map<string, PeerState>();
  /** Contiguous, sorted by start, the first one at or below tip + 1. */
  private ranges: Range[] = [];
  private bufferedBytes = 0;
  private running = false;
  private currentState: SyncState = 'idle';
  private importLoop: Promise<void> | null = null;
  private pumpQueued = false;
  private unsubscribe: Array<() => void> = [];
  private timers: { tick: Timer | null; status: Timer | null; progress: Timer | null } = {
    tick: null,
    status: null,
    progress: null,
  };
  private lastStatusRound = Number.NEGATIVE_INFINITY;
  private lagSince: number | null = null;
  private backoffUntil = 0;
  private readonly progress = new SyncProgress();
  private syncStartedAt: { t: number; height: number } | null = null;
  private mempoolRun: Promise<void> | null = null;
  private readonly catchUp: MempoolCatchUp | null;

  constructor(opts: Partial<SyncOptions>, modules: SyncModules) {
    this.opts = { ...DEFAULT_SYNC_OPTIONS, ...opts };
    this.chain = modules.chain;
    this.importer = modules.importer;
    this.peerSet = modules.peers;
    this.signatures = modules.signatures;
    this.catchUp =
      modules.mempool === null
        ? null
        : new MempoolCatchUp(
            { maxDeferredTxs: this.opts.maxDeferredTxs },
            { mempool: modules.mempool, logger: modules.logger },
          );
    this.logger = modules.logger;
    this.metrics = modules.metrics;
    this.clock = modules.clock ?? systemClock;
    const chain = this.chain;
    this.readCoins =
      chain.getCoins === undefined ? null : (outpoints) => chain.getCoins!(outpoints);
    if (
      this.opts.rangeSize < 1 ||
      this.opts.maxRangesInFlight < 1 ||
      this.opts.maxRequestsPerPeer < 1
    )
      throw new RangeError('sync range size and request limits must be at least 1');
  }

  // ---- public surface ------------------------------------------------------

  get state(): SyncState {
    return this.currentState;
  }

  get currentHeight(): number {
    return this.chain.tipHeight;
  }

  /** Best height a usable peer claims, never below our own tip. */
  get targetHeight(): number {
    let target = this.chain.tipHeight;
    for (const ps of this.peerStates.values()) {
      if (!ps.misbehaved && ps.height !== null && ps.height > target) target = ps.height;
    }
    return target;
  }

  get blocksPerSecond(): number {
    return this.progress.blocksPerSecond(this.clock.now());
  }

  status(): SyncStatus {
    const currentHeight = this.chain.tipHeight;
    const targetHeight = this.targetHeight;
    const now = this.clock.now();
    const blocksPerSecond = this.progress.blocksPerSecond(now);
    const etaSeconds = this.progress.etaSeconds(now, targetHeight - currentHeight);
    let peers = 0;
    for (const ps of this.peerStates.values()) if (!ps.misbehaved) peers++;
    return {
      state: this.currentState,
      currentHeight,
      targetHeight,
      blocksPerSecond: Math.round(blocksPerSecond * 100) / 100,
      etaSeconds,
      peers,
      rangesInFlight: this.ranges.filter((r) => r.state === 'requested').length,
    };
  }

  /** For /health/ready: true when peers are known to be more than `thresholdBlocks` ahead. */
  isFarBehind(thresholdBlocks: number): boolean {
    return this.targetHeight - this.chain.tipHeight > thresholdBlocks;
  }

  /** Gossip should hand transactions to `deferTransaction` instead of the mempool while this is true. */
  get deferringTransactions(): boolean {
    return this.running && this.currentState === 'syncing';
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
    this.unsubscribe.push(
      this.peerSet.onPeerAdded((peer) => this.addPeer(peer)),
      this.peerSet.onPeerRemoved((id) => this.removePeer(id)),
    );
    if (this.peerSet.onPeerStatus !== undefined) {
      this.unsubscribe.push(
        this.peerSet.onPeerStatus((id, status) => {
          const ps = this.peerStates.get(id);
          if (ps !== undefined) this.acceptStatus(ps, status);
          this.requestPump();
        }),
      );
    }
    if (this.peerSet.onAheadHint !== undefined) {
      this.unsubscribe.push(this.peerSet.onAheadHint((id, height) => this.onAheadHint(id, height)));
    }
    for (const peer of this.peerSet.peers()) this.addPeer(peer);
    this.scheduleTick();
    this.scheduleStatusRound();
    this.scheduleProgressLog();
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
    for (const range of this.ranges) this.cancelRequest(range);
    for (const ps of this.peerStates.values()) ps.statusInFlight?.abort();
    this.ranges = [];
    this.bufferedBytes = 0;
    await this.importLoop;
    await this.mempoolRun;
    this.setState('idle');
  }

  // ---- peers -------------------------------------------------------------

  private addPeer(peer: SyncPeer): void {
    if (!this.running) return;
    const old = this.peerStates.get(peer.id);
    if (old !== undefined) this.removePeer(peer.id);
    this.peerStates.set(peer.id, {
      peer,
      height: null,
      inflight: 0,
      statusInFlight: null,
      cooldownUntil: 0,
      misbehaved: false,
      msPerBlock: 0,
    });
    this.queryStatus(this.peerStates.get(peer.id)!);
  }

  private removePeer(peerId: string): void {
    const ps = this.peerStates.get(peerId);
    if (ps === undefined) return;
    ps.statusInFlight?.abort();
    this.peerStates.delete(peerId);
    for (const range of this.ranges) {
      if (range.peerId !== peerId) continue;
      // Downloaded and checked blocks stay: they are final whoever served them.
      if (range.state === 'requested') this.requeue(range, null);
    }
    this.requestPump();
  }

  private queryStatus(ps: PeerState): void {
    if (ps.statusInFlight !== null || !this.running) return;
    const controller = new AbortController();
    ps.statusInFlight = controller;
    const timer = this.clock.setTimeout(() => controller.abort(), this.opts.statusTimeoutMs);
    let asked: Promise<{ height: number; hash: Uint8Array }>;
    try {
      asked = ps.peer.status(controller.signal);
    } catch (error) {
      asked = Promise.reject(error);
    }
    abortable(asked, controller.signal)
      .then(
        (status) => {
          if (controller.signal.aborted || this.peerStates.get(ps.peer.id) !== ps) return;
          this.acceptStatus(ps, status);
        },
        (error: unknown) => {
          this.logger.debug(
            { peer: ps.peer.id, err: asError(error).message },
            'sync: status request failed',
          );
        },
      )
      .finally(() => {
        this.clock.clearTimeout(timer);
        if (ps.statusInFlight === controller) ps.statusInFlight = null;
        this.requestPump();
      });
  }

  /**
   * `peerId` relayed a block at `height` above our tip + 1. Gossip only
   * imports tip + 1, so a missed block stalls it until sync fills the gap:
   * fetch now rather than after the follow grace. The height is a claim of
   * the relaying peer (it imported that block); if it cannot serve it, the
   * empty answer costs it a penalty and the claim.
   */
  private onAheadHint(peerId: string, height: number): void {
    const ps = this.peerStates.get(peerId);
    if (ps === undefined || ps.misbehaved || !Number.isSafeInteger(height)) return;
    if (height <= this.chain.tipHeight + 1) return;
    if (ps.height === null || height > ps.height) ps.height = height;
    if (this.currentState === 'synced') this.lagSince = Number.NEGATIVE_INFINITY;
    this.requestPump();
  }

  private acceptStatus(ps: PeerState, status: PeerChainStatus): void {
    if (ps.misbehaved) return;
    if (!Number.isSafeInteger(status.height) || status.height < 0) {
      this.misbehave(ps, Penalty.violation, 'SYNC_BAD_STATUS', 'status height is not a height');
      return;
    }
    if (status.height === this.chain.tipHeight && !bytesEqual(status.hash, this.chain.tip.hash)) {
      this.misbehave(
        ps,
        Penalty.violation,
        'SYNC_STATUS_FORK',
        `status names another block at our tip height ${status.height}`,
      );
      return;
    }
    ps.height = status.height;
  }

  private refreshStatuses(): void {
    this.lastStatusRound = this.clock.now();
    for (const ps of this.peerStates.values()) if (!ps.misbehaved) this.queryStatus(ps);
  }

  /** Penalises (when `penalty` > 0) and stops or pauses using the peer. */
  private misbehave(ps: PeerState, penalty: number, code: string, reason: string): void {
    if (penalty > 0) {
      this.metrics?.penalties.inc({ reason: code });
      this.logger.warn(
        { event: 'sync-peer-penalized', peer: ps.peer.id, penalty, code, reason },
        'sync: peer penalised',
      );
      try {
        ps.peer.penalize(penalty, `${code}: ${reason}`);
      } catch (error) {
        this.logger.debug({ err: asError(error).message }, 'sync: penalize failed');
      }
    } else {
      this.logger.debug({ peer: ps.peer.id, code, reason }, 'sync: request failed');
    }
    if (!bansAtOnce(penalty)) {
      ps.cooldownUntil = this.clock.now() + this.opts.peerCooldownMs;
      return;
    }
    ps.misbehaved = true;
    // Nothing this peer sent and we have not connected yet is used.
    for (const range of this.ranges) {
      if (range.peerId !== ps.peer.id) continue;
      if (range.state === 'requested' || range.state === 'verifying' || range.state === 'ready')
        this.requeue(range, ps.peer.id);
    }
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
    this.dropObsolete(tip);
    const target = this.targetHeight;
    // Pending ranges no usable peer claims any more are forgotten (they come back if one does).
    while (this.ranges.length > 0) {
      const last = this.ranges.at(-1)!;
      if (last.state !== 'pending' || last.start <= target) break;
      this.ranges.pop();
    }
    if (target > tip && this.currentState === 'synced') {
      this.lagSince ??= now;
    } else if (target <= tip) {
      this.lagSince = null;
    }
    const following = this.currentState === 'synced' && target - tip <= this.opts.followLagBlocks;
    const fetch =
      !following || (this.lagSince !== null && now - this.lagSince >= this.opts.followGraceMs);
    if (fetch && now >= this.backoffUntil) this.extendWindow(tip, target);
    this.assignRanges(now);
    this.updateState(now, tip, target);
    if (this.importLoop === null && this.ranges[0]?.state === 'ready') {
      this.importLoop = this.drainImports().finally(() => {
        this.importLoop = null;
        this.requestPump();
      });
    }
  }

  /** Forgets ranges wholly at or below the tip (gossip or a previous range got there). */
  private dropObsolete(tip: number): void {
    while (this.ranges.length > 0) {
      const first = this.ranges[0]!;
      if (first.state === 'importing' || first.start + first.count - 1 > tip) break;
      this.requeue(first, null);
      this.ranges.shift();
    }
    const first = this.ranges[0];
    if (first !== undefined && first.state === 'pending' && first.start <= tip) {
      const end = first.start + first.count;
      first.start = tip + 1;
      first.count = end - first.start;
    }
  }

  /**
   * Schedules ranges starting up to the target. Ranges are always full size,
   * even past the target: near the tip the peers keep producing, and a peer
   * answers up to its own tip (a prefix), so one request brings everything
   * it has instead of the few blocks its last status promised.
   */
  private extendWindow(tip: number, target: number): void {
    const limit = Math.min(target, tip + this.opts.windowBlocks);
    let end = this.ranges.length > 0 ? this.rangeEnd(this.ranges.at(-1)!) : tip + 1;
    while (end <= limit && this.bufferedBytes < this.opts.maxBufferedBytes) {
      this.ranges.push(this.newRange(end, this.opts.rangeSize));
      end += this.opts.rangeSize;
    }
  }

  private newRange(start: number, count: number): Range {
    return {
      start,
      count,
      state: 'pending',
      peerId: null,
      token: 0,
      request: null,
      excluded: new Set(),
      items: null,
      bytes: 0,
    };
  }

  private rangeEnd(range: Range): number {
    return range.start + range.count;
  }

  private assignRanges(now: number): void {
    let inFlight = 0;
    for (const r of this.ranges) if (r.state === 'requested') inFlight++;
    for (let i = 0; i < this.ranges.length && inFlight < this.opts.maxRangesInFlight; i++) {
      const range = this.ranges[i]!;
      if (range.state !== 'pending') continue;
      const ps = this.pickPeer(range, now);
      if (ps === null) continue;
      // A peer that has only the lower part answers with a prefix; the rest is re-queued then.
      this.request(range, ps);
      inFlight++;
    }
  }

  private pickPeer(range: Range, now: number): PeerState | null {
    const able: PeerState[] = [];
    for (const ps of this.peerStates.values()) {
      if (ps.misbehaved || ps.height === null || ps.height < range.start) continue;
      able.push(ps);
    }
    if (able.length === 0) return null;
    let fresh = able.filter((ps) => !range.excluded.has(ps.peer.id));
    if (fresh.length === 0) {
      // Everyone who has it already failed it once: try again (after their cooldown).
      range.excluded.clear();
      fresh = able;
    }
    let best: PeerState | null = null;
    for (const ps of fresh) {
      if (ps.inflight >= this.opts.maxRequestsPerPeer || now < ps.cooldownUntil) continue;
      if (
        best === null ||
        ps.inflight < best.inflight ||
        (ps.inflight === best.inflight && ps.msPerBlock < best.msPerBlock)
      ) {
        best = ps;
      }
    }
    return best;
  }

  private request(range: Range, ps: PeerState): void {
    const controller = new AbortController();
    const token = ++range.token;
    const startedAt = this.clock.now();
    const timer = this.clock.setTimeout(
      () => this.onRangeTimeout(range, token),
      this.opts.requestTimeoutMs,
    );
    range.state = 'requested';
    range.peerId = ps.peer.id;
    range.request = { controller, timer, startedAt };
    ps.inflight++;
    const { start, count } = range;
    let pending: Promise<BlockWithCommit[]>;
    try {
      pending = ps.peer.blocksByRange(start, count, controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (items) => this.onRangeResponse(range, token, ps, items),
      (error: unknown) => this.onRangeFailure(range, token, ps, error),
    );
  }

  /** Ends the outstanding request of `range`, if any (aborting it on the wire). */
  private cancelRequest(range: Range): void {
    const req = range.request;
    if (req === null) return;
    range.request = null;
    this.clock.clearTimeout(req.timer);
    req.controller.abort();
    const ps = range.peerId === null ? undefined : this.peerStates.get(range.peerId);
    if (ps !== undefined) ps.inflight = Math.max(0, ps.inflight - 1);
  }

  /** Back to pending, for another peer (not `exclude`). Late answers to the old attempt are ignored. */
  private requeue(range: Range, exclude: string | null): void {
    this.cancelRequest(range);
    if (range.state === 'ready') this.bufferedBytes -= range.bytes;
    range.token++;
    range.state = 'pending';
    range.items = null;
    range.bytes = 0;
    if (exclude !== null) range.excluded.add(exclude);
    range.peerId = null;
  }

  private current(range: Range, token: number): boolean {
    return this.running && range.token === token && this.ranges.includes(range);
  }

  private finishRequest(range: Range, ps: PeerState): number {
    const req = range.request;
    range.request = null;
    if (req === null) return 0;
    this.clock.clearTimeout(req.timer);
    ps.inflight = Math.max(0, ps.inflight - 1);
    return this.clock.now() - req.startedAt;
  }

  private onRangeTimeout(range: Range, token: number): void {
    if (!this.current(range, token) || range.state !== 'requested') return;
    const ps = range.peerId === null ? undefined : this.peerStates.get(range.peerId);
    this.metrics?.requests.inc({ result: 'timeout' });
    this.logger.info(
      { peer: range.peerId, start: range.start, count: range.count },
      'sync: range request timed out; moving it to another peer',
    );
    const peerId = range.peerId;
    this.requeue(range, peerId);
    if (ps !== undefined)
      this.misbehave(
        ps,
        Penalty.timeout,
        'SYNC_TIMEOUT',
        `range ${range.start}+${range.count} timed out`,
      );
    this.requestPump();
  }

  private onRangeFailure(range: Range, token: number, ps: PeerState, error: unknown): void {
    if (!this.current(range, token) || range.state !== 'requested') return;
    this.finishRequest(range, ps);
    this.metrics?.requests.inc({ result: 'failed' });
    const penalty =
      error instanceof SyncError || error instanceof VerificationError
        ? error.penalty
        : Penalty.requestFailed;
    const code =
      error instanceof SyncError || error instanceof VerificationError
        ? error.code
        : 'SYNC_REQUEST_FAILED';
    this.requeue(range, ps.peer.id);
    if (this.peerStates.get(ps.peer.id) === ps)
      this.misbehave(
        ps,
        penalty,
        code,
        `range ${range.start}+${range.count}: ${asError(error).message}`,
      );
    this.requestPump();
  }

  private async onRangeResponse(
    range: Range,
    token: number,
    ps: PeerState,
    items: BlockWithCommit[],
  ): Promise<void> {
    if (!this.current(range, token) || range.state !== 'requested') return;
    const elapsed = this.finishRequest(range, ps);
    if (!Array.isArray(items) || items.length === 0) {
      this.metrics?.requests.inc({ result: 'invalid' });
      const claimed = ps.height;
      this.requeue(range, ps.peer.id);
      ps.height = Math.min(ps.height ?? 0, range.start - 1);
      this.misbehave(
        ps,
        Penalty.emptyRange,
        'SYNC_EMPTY_RANGE',
        `no blocks from ${range.start} though its status said ${claimed}`,
      );
      this.queryStatus(ps);
      this.requestPump();
      return;
    }
    range.state = 'verifying';
    const tip = this.chain.tip;
    const prevHash = range.start === tip.height + 1 ? tip.hash : null;
    let result: Awaited<ReturnType<typeof checkRange>>;
    try {
      result = await checkRange(
        items,
        range.start,
        range.count,
        {
          params: this.chain.params,
          validators: this.chain.validatorsAt(tip.height + 1),
          lastValidators: this.chain.validatorsAt(tip.height),
          chainIdHash: this.chain.chainIdHash,
        },
        prevHash,
        this.signatures,
        this.readCoins,
      );
    } catch (error) {
      // Not the peer's fault (the verifier pool closed, say): try again later.
      if (!this.current(range, token)) return;
      this.logger.error({ err: asError(error) }, 'sync: could not check a block range');
      this.requeue(range, null);
      this.backoff();
      return;
    }
    if (!this.current(range, token) || range.state !== 'verifying') return;
    if (!result.ok) {
      this.metrics?.requests.inc({ result: 'invalid' });
      this.requeue(range, ps.peer.id);
      this.misbehave(ps, result.penalty, result.code, result.reason);
      this.requestPump();
      return;
    }
    if (items.length < range.count) {
      this.metrics?.requests.inc({ result: 'partial' });
      const rest = this.newRange(range.start + items.length, range.count - items.length);
      range.count = items.length;
      this.ranges.splice(this.ranges.indexOf(range) + 1, 0, rest);
    } else {
      this.metrics?.requests.inc({ result: 'ok' });
    }
    const perBlock = elapsed / items.length;
    ps.msPerBlock = ps.msPerBlock === 0 ? perBlock : ps.msPerBlock * 0.7 + perBlock * 0.3;
    const last = items.at(-1)!.block.height;
    if (ps.height !== null && last > ps.height) ps.height = last;
    range.items = items;
    range.bytes = items.reduce((sum, item) => sum + item.block.size, 0);
    this.bufferedBytes += range.bytes;
    range.state = 'ready';
    this.requestPump();
  }

  // ---- import ------------------------------------------------------------

  private async drainImports(): Promise<void> {
    while (this.running) {
      const range = this.ranges[0];
      if (range === undefined || range.state !== 'ready') return;
      range.state = 'importing';
      const done = await this.importRange(range);
      if (done) {
        this.bufferedBytes -= range.bytes;
        range.items = null;
        const index = this.ranges.indexOf(range);
        if (index !== -1) this.ranges.splice(index, 1);
        this.events.emit('progress', this.chain.tipHeight);
      }
      this.pump();
    }
  }

  /** Connects the range's blocks in order; false if it had to be re-queued (or sync stopped). */
  private async importRange(range: Range): Promise<boolean> {
    const items = range.items!;
    const end = range.start + range.count;
    for (const { block, commit } of items) {
      if (!this.running) return false;
      const height = block.height;
      if (height <= this.chain.tipHeight) continue;
      if (height !== this.chain.tipHeight + 1) {
        // The tip moved backwards under us (an operator rollback): start over from it.
        this.logger.warn({ height, tip: this.chain.tipHeight }, 'sync: tip moved; rescheduling');
        for (const r of this.ranges) this.requeue(r, null);
        this.ranges = [];
        this.bufferedBytes = 0;
        return false;
      }
      try {
        const result = await this.importer.importBlock(block, commit, 'sync');
        this.recordImport(result.height, result.txCount);
      } catch (error) {
        if (this.chain.tipHeight >= height) continue; // gossip connected it first
        const peerId = range.peerId;
        const ps = peerId === null ? undefined : this.peerStates.get(peerId);
        range.state = 'ready';
        this.bufferedBytes -= range.bytes;
        range.bytes = 0;
        range.start = height;
        range.count = end - height;
        if (error instanceof VerificationError) {
          if (error.code === 'BLOCK_TIME_TOO_FAR_AHEAD') {
            // Our clock or theirs; the block becomes valid as time passes. Nobody is punished.
            this.logger.warn(
              { height, reason: error.reason },
              'sync: block is ahead of our clock; waiting',
            );
            this.requeue(range, null);
            this.backoff();
            return false;
          }
          this.requeue(range, peerId);
          if (ps !== undefined)
            this.misbehave(ps, error.penalty, error.code, `block ${height}: ${error.reason}`);
          else if (peerId !== null)
            this.logger.warn(
              { peer: peerId, height, code: error.code },
              'sync: invalid block from a departed peer',
            );
          return false;
        }
        this.logger.error({ err: asError(error), height }, 'sync: could not connect a block');
        this.requeue(range, null);
        this.backoff();
        return false;
      }
    }
    return true;
  }

  private backoff(): void {
    this.backoffUntil = this.clock.now() + this.opts.peerCooldownMs / 2;
  }

  private recordImport(height: number, txCount: number): void {
    this.progress.record(this.clock.now(), height);
    this.metrics?.blocks.inc();
    this.metrics?.transactions.inc(txCount);
  }

  // ---- state -------------------------------------------------------------

  private updateState(now: number, tip: number, target: number): void {
    let known = false;
    for (const ps of this.peerStates.values())
      if (!ps.misbehaved && ps.height !== null) known = true;
    const outstanding = this.ranges.some((r) => r.start <= target);
    let next: SyncState;
    if (!known) {
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
      if (
        this.opts.mempoolSync &&
        this.catchUp !== null &&
        this.running &&
        this.mempoolRun === null
      ) {
        this.mempoolRun = this.syncMempool()
          .catch((error: unknown) =>
            this.logger.warn({ err: asError(error).message }, 'sync: mempool sync failed'),
          )
          .finally(() => {
            this.mempoolRun = null;
          });
      }
    }
    this.events.emit('state', next);
  }

  // ---- timers ------------------------------------------------------------

  private scheduleTick(): void {
    this.timers.tick = this.clock.setTimeout(() => {
      this.timers.tick = null;
      if (!this.running) return;
      this.pump();
      this.scheduleTick();
    }, TICK_MS);
  }

  private scheduleStatusRound(): void {
    this.timers.status = this.clock.setTimeout(() => {
      this.timers.status = null;
      if (!this.running) return;
      this.refreshStatuses();
      this.scheduleStatusRound();
    }, this.opts.statusIntervalMs);
  }

  private scheduleProgressLog(): void {
    this.timers.progress = this.clock.setTimeout(() => {
      this.timers.progress = null;
      if (!this.running) return;
      if (this.currentState === 'syncing') {
        const s = this.status();
        this.logger.info(
          {
            height: s.currentHeight,
            target: s.targetHeight,
            blocksPerSecond: s.blocksPerSecond,
            etaSeconds: s.etaSeconds,
            peers: s.peers,
            rangesInFlight: s.rangesInFlight,
            bufferedMb: Math.round(this.bufferedBytes / 1024 / 102.4) / 10,
          },
          'sync progress',
        );
      }
      this.scheduleProgressLog();
    }, this.opts.progressLogIntervalMs);
  }

  // ---- mempool after catch-up ----------------------------------------------

  /** Hands the mempool catch-up what it needs of the peer table; emits 'mempoolSynced'. */
  private async syncMempool(): Promise<void> {
    const added = await this.catchUp!.run({
      usablePeers: () =>
        [...this.peerStates.values()].filter((ps) => !ps.misbehaved).map((ps) => ps.peer),
      peer: (peerId) => this.peerStates.get(peerId)?.peer,
      misbehave: (peer, penalty, code, reason) => {
        const ps = this.peerStates.get(peer.id);
        if (ps !== undefined) this.misbehave(ps, penalty, code, reason);
      },
      withDeadline: (run) => withDeadline(this.clock, this.opts.requestTimeoutMs, run),
      running: () => this.running,
    });
    this.events.emit('mempoolSynced', added);
  }
}
