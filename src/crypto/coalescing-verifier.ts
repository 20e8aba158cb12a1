/**
 * Gathers the small batches that arrive one transaction at a time (mempool
 * admission of gossiped and submitted transactions) into larger ones for the
 * worker pool, where a lone 1-input transaction would otherwise be verified
 * on the calling thread and the workers would sit idle.
 *
 * The policy, as in Nagle's algorithm: when no batch is out, what has arrived
 * goes out on the next event-loop turn (a lone transaction waits
 * microseconds, not a timer); while one is out, arrivals wait for it to come
 * back and then go together, but never longer than `maxWaitMs`, and never
 * more than `maxBatch` signatures at a time. Each caller gets exactly the
 * results of its own jobs, in order.
 */
import { asError, UtxodError } from '../util/index.ts';
import type { VerifyJob } from './verify-pool.ts';

/** What the coalescer feeds (crypto/verify-pool's ParallelVerifier). */
export interface PoolVerifier {
  verifyBatch(jobs: readonly VerifyJob[], opts?: { inlineBelow?: number }): Promise<boolean[]>;
}

export interface CoalescingVerifierOptions {
  /** Longest a job waits for the batch ahead of it to come back. Default 3 ms. */
  maxWaitMs?: number;
  /** Most signatures sent as one batch. Default 4096. */
  maxBatch?: number;
}

export class CoalescingVerifierConfigError extends UtxodError<'INVALID_COALESCING_CONFIG'> {}

interface Waiting {
  readonly jobs: readonly VerifyJob[];
  resolve(results: boolean[]): void;
  reject(error: Error): void;
}

const DEFAULT_MAX_WAIT_MS = 3;
const DEFAULT_MAX_BATCH = 4096;

export class CoalescingVerifier {
  private readonly pool: PoolVerifier;
  private readonly maxWaitMs: number;
  private readonly maxBatch: number;
  private queue: Waiting[] = [];
  private queuedJobs = 0;
  private inFlight = 0;
  private scheduled = false;
  private timer: NodeJS.Timeout | undefined;
  private batchCount = 0;
  private jobCount = 0;

  constructor(opts: CoalescingVerifierOptions, modules: { pool: PoolVerifier }) {
    this.maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    this.maxBatch = opts.maxBatch ?? DEFAULT_MAX_BATCH;
    if (!Number.isFinite(this.maxWaitMs) || this.maxWaitMs < 0) {
      throw new CoalescingVerifierConfigError(
        'INVALID_COALESCING_CONFIG',
        'maxWaitMs must be a non-negative number',
        { maxWaitMs: this.maxWaitMs },
      );
    }
    if (!Number.isSafeInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new CoalescingVerifierConfigError(
        'INVALID_COALESCING_CONFIG',
        'maxBatch must be a positive integer',
        { maxBatch: this.maxBatch },
      );
    }
    this.pool = modules.pool;
  }

  /** Batches sent to the pool so far, and the jobs they carried (mean batch size). */
  get stats(): { batches: number; jobs: number } {
    return { batches: this.batchCount, jobs: this.jobCount };
  }

  verifyBatch(jobs: readonly VerifyJob[]): Promise<boolean[]> {
    if (jobs.length === 0) return Promise.resolve([]);
    return new Promise<boolean[]>((resolve, reject) => {
      this.queue.push({ jobs, resolve, reject });
      this.queuedJobs += jobs.length;
      if (this.queuedJobs >= this.maxBatch) this.flush();
      else if (this.inFlight === 0) this.flushNextTurn();
      else if (this.timer === undefined) {
        this.timer = setTimeout(() => this.flush(), this.maxWaitMs);
      }
    });
  }

  private flushNextTurn(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0) {
      const taken: Waiting[] = [];
      let size = 0;
      while (
        this.queue.length > 0 &&
        (size === 0 || size + this.queue[0]!.jobs.length <= this.maxBatch)
      ) {
        const next = this.queue.shift()!;
        taken.push(next);
        size += next.jobs.length;
      }
      this.queuedJobs -= size;
      this.send(taken, size);
    }
  }

  private send(taken: Waiting[], size: number): void {
    const jobs: VerifyJob[] = [];
    for (const w of taken) for (const j of w.jobs) jobs.push(j);
    this.inFlight++;
    this.batchCount++;
    this.jobCount += size;
    // Even two signatures go to the workers: the calling thread is the one
    // busy admitting transactions, and it helps with the batch when idle.
    this.pool.verifyBatch(jobs, { inlineBelow: 2 }).then(
      (results) => {
        let at = 0;
        for (const w of taken) {
          w.resolve(results.slice(at, at + w.jobs.length));
          at += w.jobs.length;
        }
        this.done();
      },
      (error: unknown) => {
        for (const w of taken) w.reject(asError(error));
        this.done();
      },
    );
  }

  private done(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.queue.length > 0) this.flush();
  }
}
