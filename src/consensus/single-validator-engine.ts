import type { Logger } from 'pino';
import { CommitCertificate, VoteType } from '../primitives/commit.ts';
import { asError } from '../util/errors.ts';
import type { ConsensusEngine, ConsensusHost } from './engine.ts';
import type { ValidatorSet } from './validator-set.ts';
import type { ValidatorSigner } from './validator-signer.ts';

export interface SingleValidatorEngineOptions {
  readonly blockIntervalMs: number;
}

/**
 * Consensus for a network of one validator: every interval it proposes a
 * block, precommits it and, holding all the voting power, commits it. The BFT
 * engine replaces this for networks of several validators; this one exists so
 * a devnet runs the same propose -> sign -> commit path.
 *
 * If the node crashed after signing a precommit but before the block was on
 * disk, the signer refuses to sign a different block at that height and
 * round; the engine then moves to the next round, as Tendermint would.
 */
export class SingleValidatorEngine implements ConsensusEngine {
  private readonly opts: SingleValidatorEngineOptions;
  private readonly host: ConsensusHost;
  private readonly signer: ValidatorSigner;
  private readonly validatorIndex: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    opts: SingleValidatorEngineOptions,
    modules: {
      host: ConsensusHost;
      signer: ValidatorSigner;
      validators: ValidatorSet;
      logger: Logger;
    },
  ) {
    this.opts = opts;
    this.host = modules.host;
    this.signer = modules.signer;
    this.logger = modules.logger;
    this.validatorIndex = modules.validators.indexOf(modules.signer.publicKey);
    if (this.validatorIndex === -1 || modules.validators.validators.length !== 1) {
      throw new RangeError('SingleValidatorEngine needs a validator set of exactly this signer');
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      const started = Date.now();
      this.running = this.produceOne().finally(() => {
        this.running = null;
        this.schedule(Math.max(0, this.opts.blockIntervalMs - (Date.now() - started)));
      });
    }, delayMs);
  }

  private async produceOne(): Promise<void> {
    try {
      const block = await this.host.proposeBlock();
      if (block === null) return;
      const height = block.height;
      const round = this.signer.lastSignedHeight === height ? this.nextRound() : 0;
      const signature = this.signer.signVote(VoteType.precommit, height, round, block.hash);
      const commit = new CommitCertificate({
        height,
        round,
        blockHash: block.hash,
        signatures: [{ validatorIndex: this.validatorIndex, signature }],
      });
      await this.host.commitBlock(block, commit);
    } catch (error) {
      this.logger.error(
        { err: asError(error), height: this.host.tipHeight + 1 },
        'block production failed',
      );
    }
  }

  /** Round after the one already signed at this height (a crash interrupted it). */
  private nextRound(): number {
    const round = this.signer.lastSignedRound + 1;
    this.logger.warn(
      { event: 'round-skip', height: this.host.tipHeight + 1, round },
      'resuming after a signed but uncommitted block',
    );
    return round;
  }
}
