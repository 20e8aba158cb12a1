import type { Logger } from 'pino';
import type { ValidatorSet } from '../consensus/index.ts';
import type { Database, ReadView } from '../storage/index.ts';
import { asError } from '../util/index.ts';
import type { SnapshotMetrics } from './metrics.ts';
import type { SnapshotStore } from './store.ts';

export interface SnapshotWriterOptions {
  /** Every this many blocks; 0: never. */
  readonly interval: number;
  readonly keep: number;
  readonly chunkBytes?: number;
}

/**
 * Writes a snapshot every `interval` blocks. The LevelDB snapshot is taken
 * synchronously when the block event fires, so the snapshot is exactly that
 * block's state; reading and writing the files then runs in the background,
 * one at a time (a snapshot still running when the next is due skips it),
 * and never blocks block import.
 */
export class SnapshotWriter {
  private readonly opts: SnapshotWriterOptions;
  private readonly modules: {
    db: Database;
    chain: { chainIdHash: Uint8Array; validatorsAt(height: number): ValidatorSet };
    store: SnapshotStore;
    logger: Logger;
    metrics: SnapshotMetrics | null;
  };
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(opts: SnapshotWriterOptions, modules: SnapshotWriter['modules']) {
    this.opts = opts;
    this.modules = modules;
  }

  /** Call after block `height` was committed. */
  onBlock(height: number): void {
    if (this.closed || this.opts.interval <= 0 || height % this.opts.interval !== 0) return;
    if (this.running !== null) {
      this.modules.logger.warn(
        { height },
        'previous snapshot still being written; skipping this one',
      );
      return;
    }
    const view = this.modules.db.readView();
    this.running = this.write(view, height).finally(() => {
      this.running = null;
    });
  }

  private async write(view: ReadView, height: number): Promise<void> {
    const { store, logger, metrics } = this.modules;
    try {
      const result = await store.create(view, this.modules.chain, {
        ...(this.opts.chunkBytes === undefined ? {} : { chunkBytes: this.opts.chunkBytes }),
      });
      const removed = await store.prune(this.opts.keep);
      metrics?.created.inc();
      metrics?.lastHeight.set(result.height);
      metrics?.createSeconds.observe(result.durationMs / 1000);
      logger.info(
        {
          height: result.height,
          coins: result.coins.toString(),
          chunks: result.chunks,
          bytes: result.bytes,
          ms: Math.round(result.durationMs),
          pruned: removed,
        },
        'snapshot written',
      );
    } catch (error) {
      metrics?.failures.inc();
      logger.error({ height, err: asError(error).message }, 'snapshot failed');
    } finally {
      await view.close();
    }
  }

  /** Waits for a snapshot being written; no new ones start. */
  async close(): Promise<void> {
    this.closed = true;
    await this.running;
  }
}
