import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { VerificationError } from '../consensus/index.ts';
import type { BlockSource, ChainMetrics } from '../metrics/index.ts';
import type { Block, CommitCertificate } from '../primitives/index.ts';
import { asError, bytesEqual, SerialQueue, toHex } from '../util/index.ts';
import type { Chain, ConnectResult } from './chain.ts';

export interface BlockImportedEvent {
  readonly block: Block;
  readonly commit: CommitCertificate;
  readonly result: ConnectResult;
  readonly source: BlockSource;
}

/**
 * What the importer needs from the mempool (it sits above chain, so the
 * importer names only this shape; `Mempool` satisfies it).
 */
export interface BlockTxPool {
  removeForBlock(block: Block): Promise<{ readonly conflicted: number }>;
}

/** Observer events (metrics, websocket subscribers, gossip relay): never consensus control flow. */
export interface NodeEvents {
  block: [BlockImportedEvent];
}

/**
 * The one path by which a final block enters the node, whoever produced it:
 * validate and connect (one atomic batch), update the mempool, count, log,
 * and only then tell observers. Producer, sync and gossip all call this.
 */
export class BlockImporter {
  readonly events = new EventEmitter<NodeEvents>();
  private readonly chain: Chain;
  private readonly mempool: BlockTxPool;
  private readonly metrics: ChainMetrics | null;
  private readonly logger: Logger;
  /** Imports are serialised: a block may only connect on the tip its predecessor left. */
  private readonly queue = new SerialQueue();

  constructor(modules: {
    chain: Chain;
    mempool: BlockTxPool;
    metrics: ChainMetrics | null;
    logger: Logger;
  }) {
    this.chain = modules.chain;
    this.mempool = modules.mempool;
    this.metrics = modules.metrics;
    this.logger = modules.logger;
    this.metrics?.height.set(this.chain.tipHeight);
  }

  importBlock(
    block: Block,
    commit: CommitCertificate,
    source: BlockSource,
    options: { now?: number | null } = {},
  ): Promise<ConnectResult> {
    return this.queue.run(() => this.importNow(block, commit, source, options));
  }

  private async importNow(
    block: Block,
    commit: CommitCertificate,
    source: BlockSource,
    options: { now?: number | null },
  ): Promise<ConnectResult> {
    if (await this.isConnected(block)) {
      this.logger.debug({ height: block.height, source }, 'block already connected');
      throw new VerificationError(
        'BLOCK_ALREADY_CONNECTED',
        `block ${block.height} is already connected`,
      );
    }
    let result: ConnectResult;
    try {
      result = await this.chain.connectBlock(block, commit, options);
    } catch (error) {
      if (error instanceof VerificationError) {
        this.metrics?.blockRejections.inc({ code: error.code });
        this.logger.warn(
          {
            event: 'block-rejected',
            source,
            height: block.height,
            hash: toHex(block.hash),
            code: error.code,
            reason: error.reason,
          },
          'rejected block',
        );
      }
      throw error;
    }
    const removal = await this.mempool.removeForBlock(block);
    if (this.metrics !== null) {
      this.metrics.height.set(result.height);
      this.metrics.blocksConnected.inc({ source });
      this.metrics.blockConnectSeconds.observe({ source }, result.durationMs / 1000);
      this.metrics.txsConnected.inc(result.txCount);
    }
    // One info line per block (height, hash, txs, duration); the rest at debug.
    this.logger.info(
      {
        height: result.height,
        hash: toHex(result.hash),
        txs: result.txCount,
        durationMs: Number(result.durationMs.toFixed(2)),
        source,
      },
      'committed block',
    );
    this.logger.debug(
      { height: result.height, fees: result.fees.toString(), mempoolConflicts: removal.conflicted },
      'committed block details',
    );
    this.notify({ block, commit, result, source });
    return result;
  }

  private async isConnected(block: Block): Promise<boolean> {
    if (block.height > this.chain.tipHeight) return false;
    const hash = await this.chain.getHashAt(block.height);
    return hash !== undefined && bytesEqual(hash, block.hash);
  }

  /**
   * The block is on disk: an observer that throws must not turn that into a
   * failed import, nor keep the observers after it from hearing of the block.
   */
  private notify(event: BlockImportedEvent): void {
    for (const listener of this.events.listeners('block')) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error(
          { err: asError(error), height: event.result.height },
          'block observer failed',
        );
      }
    }
  }
}
