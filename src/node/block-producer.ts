import type { BlockImporter, Chain } from '../chain/index.ts';
import { assembleBlock } from '../chain/index.ts';
import type { ConsensusHost } from '../consensus/engine.ts';
import type { Mempool } from '../mempool/index.ts';
import type { Block, CommitCertificate, DuplicateVoteEvidence } from '../primitives/index.ts';
import { EVIDENCE_BYTES, HEADER_SIZE, pubkeyLock } from '../primitives/index.ts';
import { type Clock, systemClock } from '../util/index.ts';

/** Room left in a block for the header, the parent's commit certificate and the coinbase. */
const BLOCK_OVERHEAD_BYTES = HEADER_SIZE + 70_000;

/** The node's side of consensus: builds proposals from the mempool, connects final blocks. */
export class BlockProducer implements ConsensusHost {
  private readonly opts: { emptyBlocks: boolean; validatorKey: Uint8Array };
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly importer: BlockImporter;
  /** Block times come from here, so tests can produce blocks at chosen times. */
  private readonly clock: Pick<Clock, 'now'>;

  constructor(
    opts: { emptyBlocks: boolean; validatorKey: Uint8Array },
    modules: {
      chain: Chain;
      mempool: Mempool;
      importer: BlockImporter;
      clock?: Pick<Clock, 'now'>;
    },
  ) {
    this.opts = opts;
    this.chain = modules.chain;
    this.mempool = modules.mempool;
    this.importer = modules.importer;
    this.clock = modules.clock ?? systemClock;
  }

  get tipHeight(): number {
    return this.chain.tipHeight;
  }

  hasWork(): boolean {
    return this.opts.emptyBlocks || this.mempool.size > 0;
  }

  async proposeBlock(
    opts: { readonly evidence?: readonly DuplicateVoteEvidence[] } = {},
  ): Promise<Block | null> {
    const evidence = opts.evidence ?? [];
    // Evidence alone is worth a block: it must be committed before it expires.
    if (!this.opts.emptyBlocks && this.mempool.size === 0 && evidence.length === 0) return null;
    const template = this.mempool.blockTemplate({
      maxBytes:
        this.chain.params.maxBlockBytes - BLOCK_OVERHEAD_BYTES - evidence.length * EVIDENCE_BYTES,
    });
    return assembleBlock(this.chain, {
      txs: template.txs,
      fees: template.fees,
      proposer: this.opts.validatorKey,
      rewardLock: pubkeyLock(this.opts.validatorKey),
      time: this.clock.now(),
      evidence,
    });
  }

  async commitBlock(block: Block, commit: CommitCertificate): Promise<void> {
    await this.importer.importBlock(block, commit, 'producer');
  }
}
