import { existsSync, readFileSync } from 'node:fs';
import { sign } from '../crypto/index.ts';
import type { KeyPair } from '../crypto/node.ts';
import { proposalDigest, type VoteType, voteDigest } from '../primitives/index.ts';
import { bytesEqual, fromHex, toHex, UtxodError } from '../util/index.ts';
import { writeFileAtomic } from '../util/node.ts';

export class DoubleSignError extends UtxodError<'DOUBLE_SIGN_REFUSED'> {
  /**
   * True when the position is below the last signed one (what a rollback
   * leaves behind: expected, and explained once); false for a different
   * message at the very position already signed (never expected).
   */
  readonly belowLastSigned: boolean;

  constructor(reason: string, details: Record<string, unknown>, belowLastSigned = false) {
    super('DOUBLE_SIGN_REFUSED', `refusing to sign: ${reason}`, details);
    this.belowLastSigned = belowLastSigned;
  }
}

/** A log line: pino fields and message. */
export interface SignerNotice {
  readonly fields: Record<string, unknown>;
  readonly msg: string;
}

export class SignerStateError extends UtxodError<'SIGNER_STATE_CORRUPT'> {
  constructor(path: string, problem: string) {
    super(
      'SIGNER_STATE_CORRUPT',
      `signer state ${path}: ${problem}; refusing to sign until an operator checks it`,
      { path },
    );
  }
}

/**
 * Steps within a round, in signing order: a proposal comes before this
 * validator's prevote, which comes before its precommit (CometBFT's privval
 * order). Vote steps equal their VoteType.
 */
export const SignStep = { proposal: 0, prevote: 1, precommit: 2 } as const;
export type SignStep = (typeof SignStep)[keyof typeof SignStep];

/** Height, round and step of the last proposal or vote this validator signed. */
interface LastSigned {
  readonly height: number;
  readonly round: number;
  readonly step: SignStep;
  readonly digest: Uint8Array;
  readonly signature: Uint8Array;
}

/**
 * A signature and the write that guards it. Nothing may be sent before
 * `durable` resolves: until then a crash could forget that it was signed.
 */
export interface SignedMessage {
  readonly signature: Uint8Array;
  /** Resolves once the signer state naming this position is on disk; rejects if that write failed. */
  readonly durable: Promise<void>;
}

/**
 * The only code that signs proposals and votes with the validator key. It
 * refuses to sign anything at or below the last signed position unless it is
 * the very same message, and persists the height/round/step of every
 * signature (fsync + atomic rename) before the caller may send it. So a crash
 * at any moment can never lead to two different signed messages for one
 * position.
 *
 * The check and the in-memory position move synchronously, so a second sign
 * request can never slip in before the first is recorded; the file write runs
 * off the event loop (a write with its two fsyncs took a median 19 ms on this
 * machine's disk under load, and every vote used to block the node for it),
 * and writes are queued so the file never goes back to an older position. A
 * failed write leaves the signer refusing everything: a validator that cannot
 * record what it signed must not sign.
 */
export class ValidatorSigner {
  readonly publicKey: Uint8Array;
  private readonly privateKey: Uint8Array;
  private readonly statePath: string;
  private readonly chainIdHash: Uint8Array;
  private last: LastSigned | null;
  /** The write of `last` (and, queued before it, of every earlier position). */
  private lastDurable: Promise<void> = Promise.resolve();
  private writeFailure: Error | null = null;
  private noticeGivenAt = -1;

  constructor(opts: { statePath: string; chainIdHash: Uint8Array }, modules: { key: KeyPair }) {
    this.publicKey = modules.key.publicKey;
    this.privateKey = modules.key.privateKey;
    this.statePath = opts.statePath;
    this.chainIdHash = opts.chainIdHash;
    this.last = readState(opts.statePath);
  }

  get lastSignedHeight(): number {
    return this.last?.height ?? 0;
  }

  get lastSignedRound(): number {
    return this.last?.round ?? 0;
  }

  signVote(type: VoteType, height: number, round: number, blockHash: Uint8Array): SignedMessage {
    return this.signAt(
      type,
      height,
      round,
      voteDigest(this.chainIdHash, type, height, round, blockHash),
    );
  }

  /** `polRound` as on the wire: NO_POL_ROUND for none. */
  signProposal(
    height: number,
    round: number,
    polRound: number,
    blockHash: Uint8Array,
  ): SignedMessage {
    return this.signAt(
      SignStep.proposal,
      height,
      round,
      proposalDigest(this.chainIdHash, height, round, polRound, blockHash),
    );
  }

  /**
   * The operator's explanation of refusals below the last signed position,
   * returned once per last-signed height and null after that: a validator
   * rolled back under its signer refuses every round until the chain passes
   * that height, and one warning says why and what to do, not a stack a second.
   */
  takeRefusalNotice(): SignerNotice | null {
    const last = this.last;
    if (last === null || this.noticeGivenAt === last.height) return null;
    this.noticeGivenAt = last.height;
    return {
      fields: { event: 'signer-ahead-of-chain', lastSignedHeight: last.height },
      msg:
        `this validator already signed at height ${last.height} (the chain was rolled back below it), ` +
        `so it will not sign up to height ${last.height} again: that would be a double sign. ` +
        `It signs again once the chain passes height ${last.height} (blocks from other validators); ` +
        'on a private network where no other node saw the undone blocks, stop the node and run ' +
        '`utxod rollback 0 --reset-signer` to let it sign them anew',
    };
  }

  /** Resolves once every position signed so far is on disk (tests, shutdown). */
  async flushed(): Promise<void> {
    await this.lastDurable;
  }

  private signAt(step: SignStep, height: number, round: number, digest: Uint8Array): SignedMessage {
    if (this.writeFailure !== null) {
      throw new SignerStateError(
        this.statePath,
        `an earlier write of the signer state failed (${this.writeFailure.message})`,
      );
    }
    const last = this.last;
    if (last !== null) {
      const order = compareHrs(height, round, step, last);
      if (order === 0) {
        if (bytesEqual(digest, last.digest))
          return { signature: last.signature, durable: this.lastDurable };
        throw new DoubleSignError(
          'a different message was already signed at this height/round/step',
          { height, round, step },
        );
      }
      if (order < 0) {
        throw new DoubleSignError(
          `height/round/step ${height}/${round}/${step} is below the last signed ${last.height}/${last.round}/${last.step}`,
          { height, round, step, lastSignedHeight: last.height },
          true,
        );
      }
    }
    const signature = sign(digest, this.privateKey);
    const next: LastSigned = { height, round, step, digest, signature };
    this.last = next;
    this.lastDurable = this.lastDurable.then(() =>
      writeState(this.statePath, next).catch((error: unknown) => {
        this.writeFailure = error instanceof Error ? error : new Error(String(error));
        throw error;
      }),
    );
    // The failure is not lost: writeFailure refuses every later request, and
    // the caller of this one gets the rejection through `durable`. This only
    // keeps a caller that drops `durable` from crashing the process with an
    // unhandled rejection.
    this.lastDurable.catch(() => undefined);
    return { signature, durable: this.lastDurable };
  }
}

function compareHrs(height: number, round: number, step: number, last: LastSigned): number {
  if (height !== last.height) return height - last.height;
  if (round !== last.round) return round - last.round;
  return step - last.step;
}

function writeState(path: string, state: LastSigned): Promise<void> {
  const doc = {
    height: state.height,
    round: state.round,
    step: state.step,
    digest: toHex(state.digest),
    signature: toHex(state.signature),
  };
  return writeFileAtomic(path, `${JSON.stringify(doc)}\n`, 0o600);
}

function readState(path: string): LastSigned | null {
  if (!existsSync(path)) return null;
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    const { height, round, step, digest, signature } = doc;
    if (
      !Number.isSafeInteger(height) ||
      !Number.isSafeInteger(round) ||
      (step !== 0 && step !== 1 && step !== 2)
    ) {
      throw new Error('bad height/round/step');
    }
    return {
      height: height as number,
      round: round as number,
      step: step as SignStep,
      digest: fromHex(String(digest), 32),
      signature: fromHex(String(signature), 64),
    };
  } catch (error) {
    throw new SignerStateError(path, (error as Error).message);
  }
}
