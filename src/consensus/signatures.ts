import { VerificationError } from './errors.ts';

export interface SignatureJob {
  readonly msg: Uint8Array;
  readonly sig: Uint8Array;
  readonly pub: Uint8Array;
}

/** Verifies many signatures at once (crypto/verify-pool's ParallelVerifier). */
export interface BatchVerifier {
  verifyBatch(jobs: readonly SignatureJob[]): Promise<boolean[]>;
}

/** Remembers signatures already verified (crypto/sig-cache's SignatureCache). */
export interface VerifiedSignatureCache {
  has(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): boolean;
  add(msg: Uint8Array, sig: Uint8Array, pub: Uint8Array): void;
}

/** A job plus where it came from, so a failure names the transaction input. */
export interface LocatedSignatureJob extends SignatureJob {
  readonly txid: Uint8Array;
  readonly inputIndex: number;
}

/**
 * Checks signatures through the cache first and the batch verifier for the
 * rest, then caches the ones that passed. A transaction verified at mempool
 * admission therefore costs one cache lookup per input at block connect.
 * With `cache` null nothing is remembered (benchmarks, verify-chain --full).
 */
export class SignatureChecker {
  private readonly verifier: BatchVerifier;
  private readonly cache: VerifiedSignatureCache | null;

  constructor(modules: { verifier: BatchVerifier; cache: VerifiedSignatureCache | null }) {
    this.verifier = modules.verifier;
    this.cache = modules.cache;
  }

  /**
   * Verifies and caches the signatures of `jobs` without judging them: the
   * ones that pass are remembered, so a later `check` of the same jobs costs
   * cache lookups. The mempool calls it before queueing for its admission
   * lock, so that transactions arriving together are verified together (see
   * crypto/coalescing-verifier). A failure is left for `check` to find and
   * report where admission would; it then verifies that signature again,
   * which only a sender of invalid signatures pays for. Does nothing without
   * a cache. Resolves true when every job is valid (cached or verified
   * here), so that a caller holding exactly these jobs may skip `check`.
   */
  async preverify(jobs: readonly SignatureJob[]): Promise<boolean> {
    if (this.cache === null) return false;
    const pending = jobs.filter((j) => !this.cache!.has(j.msg, j.sig, j.pub));
    if (pending.length === 0) return true;
    const results = await this.verifier.verifyBatch(pending);
    let all = true;
    pending.forEach((j, i) => {
      if (results[i] === true) this.cache!.add(j.msg, j.sig, j.pub);
      else all = false;
    });
    return all;
  }

  /** Throws TX_BAD_SIGNATURE naming the first failing input. */
  async check(jobs: readonly LocatedSignatureJob[]): Promise<void> {
    const pending =
      this.cache === null ? jobs : jobs.filter((j) => !this.cache!.has(j.msg, j.sig, j.pub));
    if (pending.length === 0) return;
    const results = await this.verifier.verifyBatch(pending);
    const failed = results.indexOf(false);
    if (failed !== -1) {
      const job = pending[failed]!;
      throw new VerificationError(
        'TX_BAD_SIGNATURE',
        `input ${job.inputIndex} has an invalid signature`,
        {
          txid: Buffer.from(job.txid).toString('hex'),
          inputIndex: job.inputIndex,
        },
      );
    }
    if (this.cache !== null) for (const j of pending) this.cache.add(j.msg, j.sig, j.pub);
  }
}
