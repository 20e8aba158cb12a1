import type { Block, CommitCertificate, DuplicateVoteEvidence } from '../primitives/index.ts';

/**
 * What a consensus engine needs from the node. The engine decides *when* a
 * block is final; the host builds proposals and connects final blocks. The
 * path proposal -> validate -> connect -> mempool update is plain awaits.
 */
export interface ConsensusHost {
  readonly tipHeight: number;
  /**
   * The block this validator proposes on the tip, or null if there is
   * nothing worth proposing. `evidence`: pending duplicate-vote evidence,
   * oldest first, within the block's evidence bound; the block carries the
   * pieces the chain accepts (the rest can never be committed).
   */
  proposeBlock(opts?: {
    readonly evidence?: readonly DuplicateVoteEvidence[];
  }): Promise<Block | null>;
  /** Validates and connects a block that `commit` proves final. */
  commitBlock(block: Block, commit: CommitCertificate): Promise<void>;
  /**
   * False while there is nothing worth proposing (no transactions and empty
   * blocks off): the BFT engine then waits before starting the next height,
   * as CometBFT does with create_empty_blocks = false.
   */
  hasWork?(): boolean;
}

export interface ConsensusEngine {
  start(): void;
  /** Stops proposing; resolves after the block being committed, if any, is on disk. */
  stop(): Promise<void>;
}
