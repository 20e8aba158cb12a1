/**
 * Blocks over the range scheduler: which peer serves a range (a backed peer
 * a full request, an unbacked one a short probe), how an answer is checked
 * (range-check.ts), what each fault costs the peer (peer-table.ts), and the
 * import loop that connects ready ranges strictly in order through the
 * node's one import path.
 */
import type { Logger } from 'pino';
import { VerificationError } from '../../consensus/index.ts';
import { asError, type Clock } from '../../util/index.ts';
import { Penalty } from '../scoring.ts';
import { SyncError } from './errors.ts';
import type { SyncMetrics } from './metrics.ts';
import type { BlockWithCommit, SyncClient } from './network.ts';
import type { PeerTable } from './peer-table.ts';
import type { SyncProgress } from './progress.ts';
import { type CoinReader, checkRange, type RangeSignatureChecker } from './range-check.ts';
import { type Range, type RangeFault, RangeScheduler } from './range-scheduler.ts';
import type { SyncChain, SyncImporter, SyncOptions } from './syncer-types.ts';

export interface BlockDownloadModules {
  readonly chain: SyncChain;
  readonly importer: SyncImporter;
  readonly signatures: RangeSignatureChecker | null;
  readonly table: PeerTable;
  readonly client: Pick<SyncClient, 'getBlocksByRange'>;
  readonly progress: SyncProgress;
  readonly logger: Logger;
  readonly metrics: SyncMetrics | null;
  readonly clock: Clock;
  readonly running: () => boolean;
  /** Something changed that may allow more work. */
  readonly onChange: () => void;
  /** A range connected: the new tip height. */
  readonly onProgress: (height: number) => void;
}

export class BlockDownload {
  readonly scheduler: RangeScheduler<BlockWithCommit>;
  /** No new ranges before this time (a local failure: let it pass). */
  backoffUntil = 0;
  private readonly opts: SyncOptions;
  private readonly m: BlockDownloadModules;
  private readonly readCoins: CoinReader | null;
  private importLoop: Promise<void> | null = null;

  constructor(opts: SyncOptions, modules: BlockDownloadModules) {
    this.opts = opts;
    this.m = modules;
    const chain = modules.chain;
    this.readCoins =
      chain.getCoins === undefined ? null : (outpoints) => chain.getCoins!(outpoints);
    this.scheduler = new RangeScheduler<BlockWithCommit>(opts, {
      clock: modules.clock,
      hooks: {
        assign: (range, now, inflight) => this.assign(range, now, inflight),
        fetch: (peerId, start, count, signal) =>
          modules.client.getBlocksByRange(peerId, start, count, { signal }),
        verify: (range, items) => this.verify(range, items),
        itemBytes: (item) => item.block.size,
        onFault: (fault) => this.onFault(fault),
        onServed: (peerId, _range, items, elapsedMs, partial) => {
          modules.metrics?.requests.inc({ result: partial ? 'partial' : 'ok' });
          const ps = modules.table.get(peerId);
          if (ps !== undefined)
            modules.table.served(ps, items.at(-1)!.block.height, items.length, elapsedMs);
        },
        onCheckError: (error) => {
          // Not the peer's fault (the verifier pool closed, say): try again later.
          modules.logger.error({ err: asError(error) }, 'sync: could not check a block range');
          this.backoff();
        },
        onChange: modules.onChange,
      },
    });
  }

  /** Starts the import loop if the first range is ready and no loop runs. */
  importReady(): void {
    if (this.importLoop !== null || this.scheduler.ranges[0]?.state !== 'ready') return;
    this.importLoop = this.drainImports().finally(() => {
      this.importLoop = null;
      this.m.onChange();
    });
  }

  /** Resolves once the block being connected, if any, is on disk. */
  async idle(): Promise<void> {
    await this.importLoop;
  }

  backoff(): void {
    this.backoffUntil = this.m.clock.now() + this.opts.peerCooldownMs / 2;
  }

  /** A peer for the range: a backed one gets a full request, an unbacked one a short probe. */
  private assign(
    range: Readonly<Range<BlockWithCommit>>,
    now: number,
    inflight: (peerId: string) => number,
  ) {
    const ps = this.m.table.pick(
      range.start,
      range.excluded,
      now,
      inflight,
      this.opts.maxRequestsPerPeer,
    );
    if (ps === null) return null;
    // A peer that has not shown it has what it claims is asked for a little,
    // with a short deadline: an honest one is then backed, a liar found out fast.
    const probe = !ps.backed;
    return {
      peerId: ps.peerId,
      count: probe ? this.opts.probeBlocks : range.count,
      timeoutMs: probe
        ? Math.min(this.opts.probeTimeoutMs, this.opts.requestTimeoutMs)
        : this.opts.requestTimeoutMs,
      probe,
    };
  }

  private verify(range: Readonly<Range<BlockWithCommit>>, items: readonly BlockWithCommit[]) {
    const { chain } = this.m;
    const tip = chain.tip;
    const prevHash = range.start === tip.height + 1 ? tip.hash : null;
    const { params, chainIdHash } = chain;
    return checkRange(
      items,
      range.start,
      range.count,
      {
        params,
        validators: chain.validatorsAt(tip.height + 1),
        lastValidators: chain.validatorsAt(tip.height),
        chainIdHash,
      },
      prevHash,
      this.m.signatures,
      this.readCoins,
    );
  }

  private onFault(fault: RangeFault): void {
    const { table, metrics, logger } = this.m;
    const ps = table.get(fault.peerId);
    const what = `range ${fault.start}+${fault.count}`;
    switch (fault.kind) {
      case 'timeout':
        metrics?.requests.inc({ result: 'timeout' });
        logger.info(
          { peer: fault.peerId, start: fault.start, count: fault.count, probe: fault.probe },
          'sync: range request timed out; moving it to another peer',
        );
        if (ps === undefined) return;
        if (fault.probe)
          table.refute(ps, fault.start, 'SYNC_UNBACKED_CLAIM', `no answer for ${what}`);
        else table.misbehave(ps, Penalty.timeout, 'SYNC_TIMEOUT', `${what} timed out`);
        return;
      case 'failed': {
        metrics?.requests.inc({ result: 'failed' });
        const error = fault.error;
        const typed = error instanceof SyncError || error instanceof VerificationError;
        if (ps !== undefined)
          table.misbehave(
            ps,
            typed ? error.penalty : Penalty.requestFailed,
            typed ? error.code : 'SYNC_REQUEST_FAILED',
            `${what}: ${asError(error).message}`,
          );
        return;
      }
      case 'empty':
        metrics?.requests.inc({ result: 'invalid' });
        if (ps === undefined) return;
        table.refute(ps, fault.start, 'SYNC_UNBACKED_CLAIM', `no blocks from ${fault.start}`);
        table.queryStatus(ps);
        return;
      case 'invalid':
        metrics?.requests.inc({ result: 'invalid' });
        if (ps !== undefined && fault.verdict !== undefined)
          table.misbehave(ps, fault.verdict.penalty, fault.verdict.code, fault.verdict.reason);
        return;
    }
  }

  private async drainImports(): Promise<void> {
    while (this.m.running()) {
      const range = this.scheduler.takeReady();
      if (range === null) return;
      if (await this.importRange(range)) {
        this.scheduler.complete(range);
        this.m.onProgress(this.m.chain.tipHeight);
      }
      this.m.onChange();
    }
  }

  /** Connects the range's blocks in order; false if it had to be re-queued (or sync stopped). */
  private async importRange(range: Range<BlockWithCommit>): Promise<boolean> {
    const { chain, importer, metrics, progress, clock, logger } = this.m;
    for (const { block, commit } of range.items!) {
      if (!this.m.running()) return false;
      const height = block.height;
      if (height <= chain.tipHeight) continue;
      if (height !== chain.tipHeight + 1) {
        // The tip moved backwards under us (an operator rollback): start over from it.
        logger.warn({ height, tip: chain.tipHeight }, 'sync: tip moved; rescheduling');
        this.scheduler.clear();
        return false;
      }
      try {
        const result = await importer.importBlock(block, commit, 'sync');
        progress.record(clock.now(), result.height);
        metrics?.blocks.inc();
        metrics?.transactions.inc(result.txCount);
      } catch (error) {
        if (chain.tipHeight >= height) continue; // gossip connected it first
        this.importFailed(range, height, error);
        return false;
      }
    }
    return true;
  }

  private importFailed(range: Range<BlockWithCommit>, height: number, error: unknown): void {
    const { logger, table } = this.m;
    const peerId = range.peerId;
    if (!(error instanceof VerificationError)) {
      logger.error({ err: asError(error), height }, 'sync: could not connect a block');
      this.scheduler.retryFrom(range, height, null);
      this.backoff();
      return;
    }
    if (error.code === 'BLOCK_TIME_TOO_FAR_AHEAD') {
      // Our clock or theirs; the block becomes valid as time passes. Nobody is punished.
      logger.warn({ height, reason: error.reason }, 'sync: block is ahead of our clock; waiting');
      this.scheduler.retryFrom(range, height, null);
      this.backoff();
      return;
    }
    this.scheduler.retryFrom(range, height, peerId);
    const ps = peerId === null ? undefined : table.get(peerId);
    if (ps !== undefined)
      table.misbehave(ps, error.penalty, error.code, `block ${height}: ${error.reason}`);
    else if (peerId !== null)
      logger.warn(
        { peer: peerId, height, code: error.code },
        'sync: invalid block from a departed peer',
      );
  }
}
