import { assembleBlock } from '../chain/block-assembler.ts';
import type { Chain } from '../chain/chain.ts';
import type { ConsensusHost } from '../consensus/engine.ts';
import type { Mempool } from '../mempool/mempool.ts';
import type { Block } from '../primitives/block.ts';
import type { CommitCertificate } from '../primitives/commit.ts';
import { HEADER_SIZE } from '../primitives/header.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import type { BlockImporter } from './block-importer.ts';

/** Room left in a block for the header, the parent's commit certificate and the coinbase. */
const BLOCK_OVERHEAD_BYTES = HEADER_SIZE + 70_000;

/** The node's side of consensus: builds proposals from the mempool, connects final blocks. */
export class BlockProducer implements ConsensusHost {
  private readonly opts: { emptyBlocks: boolean; validatorKey: Uint8Array };
  private readonly chain: Chain;
  private readonly mempool: Mempool;
  private readonly importer: BlockImporter;

  constructor(
    opts: { emptyBlocks: boolean; validatorKey: Uint8Array },
    modules: { chain: Chain; mempool: Mempool; importer: BlockImporter },
  ) {
    this.opts = opts;
    this.chain = modules.chain;
    this.mempool = modules.mempool;
    this.importer = modules.importer;
  }

  get tipHeight(): number {
    return this.chain.tipHeight;
  }

  async proposeBlock(): Promise<Block | null> {
    if (!this.opts.emptyBlocks && this.mempool.size === 0) return null;
    const template = this.mempool.blockTemplate({
      maxBytes: this.chain.params.maxBlockBytes - BLOCK_OVERHEAD_BYTES,
    });
    return assembleBlock(this.chain, {
      txs: template.txs,
      fees: template.fees,
      proposer: this.opts.validatorKey,
      rewardLock: pubkeyLock(this.opts.validatorKey),
      time: Date.now(),
    });
  }

  async commitBlock(block: Block, commit: CommitCertificate): Promise<void> {
    await this.importer.importBlock(block, commit, 'producer');
  }
}
