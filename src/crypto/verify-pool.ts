/**
 * Signature verification spread over `worker_threads`, with work stealing.
 *
 * A batch is packed once into a SharedArrayBuffer of fixed 129-byte records
 * (msg 32 || sig 64 || pub 33) next to a result byte per record and two
 * shared counters: the next unclaimed record and the number verified. Every
 * worker, and the calling thread once it has nothing else to do, claims small
 * chunks with `Atomics.add` until none is left. Nothing is split in advance,
 * so a participant that gets less CPU (another process competing for the
 * core, a worker still busy with an earlier batch) simply claims fewer chunks
 * instead of holding up the batch with a fixed half: on a busy machine the
 * batch finishes no later than it would on the calling thread alone. (A
 * static half per worker measured 0.22x raw single-core verify under load,
 * against 0.51x inline.)
 *
 * The calling thread helps from `setImmediate`, one chunk per turn: it first
 * finishes whatever synchronous work it had (block validation computes the
 * UTXO commitment meanwhile), and I/O callbacks still run between chunks.
 * Small batches (a single mempool transaction) are verified on the calling
 * thread at once, where the round trip would cost more than the work.
 *
 * Workers are unref'd while idle, so a pool nobody closed does not keep the
 * process alive; they are ref'd while a batch is outstanding, so awaiting a
 * batch does.
 */
import { Worker } from 'node:worker_threads';
import { asError, UtxodError } from '../util/index.ts';
import {
  bestVerifier,
  DIGEST_BYTES,
  PUBLIC_KEY_BYTES,
  SIGNATURE_BYTES,
  type SignatureVerifier,
} from './verifier.ts';

export interface VerifyJob {
  readonly msg: Uint8Array;
  readonly sig: Uint8Array;
  readonly pub: Uint8Array;
}

export interface ParallelVerifierOptions {
  /** Worker threads; 0 verifies everything on the calling thread. */
  workers: number;
  /** Batches with fewer jobs than this are verified on the calling thread. Default 16. */
  inlineBelow?: number;
  /** How long `init` waits for every worker to load. Default 30 s. */
  startupTimeoutMs?: number;
  /** Told about a worker that died; the pool carries on with the others (or inline). */
  onWorkerError?: (error: VerifyPoolError) => void;
  /** The worker entry; only tests replace it. */
  workerUrl?: URL;
}

export type VerifyPoolErrorCode =
  | 'VERIFY_POOL_CONFIG'
  | 'VERIFY_POOL_CLOSED'
  | 'VERIFY_WORKER_FAILED';

export class VerifyPoolError extends UtxodError<VerifyPoolErrorCode> {}

// The packed record, shared with verify-worker.ts.
export const MSG_OFFSET = 0;
export const SIG_OFFSET = MSG_OFFSET + DIGEST_BYTES;
export const PUB_OFFSET = SIG_OFFSET + SIGNATURE_BYTES;
export const JOB_BYTES = PUB_OFFSET + PUBLIC_KEY_BYTES;

/** Control words of a shared batch (an Int32Array over `control`). */
export const NEXT_INDEX = 0;
export const DONE_COUNT = 1;
const CONTROL_WORDS = 2;

/** Pool -> worker: one batch, shared with every participant. */
/** Sent to a worker by close(): exit once the current batch is drained. */
export interface VerifyControlMessage {
  type: 'stop';
}

export interface VerifyRequest {
  id: number;
  /** `count` packed records. */
  jobs: SharedArrayBuffer;
  /** One byte per record: 1 valid, 0 not. */
  results: SharedArrayBuffer;
  control: SharedArrayBuffer;
  count: number;
  chunk: number;
}

/** Worker -> pool. */
export type VerifyWorkerMessage =
  | { type: 'ready'; backend: string }
  /** The worker found no chunk left to claim in batch `id`. */
  | { type: 'drained'; id: number };

/** A view of one shared batch, as every participant sees it. */
export interface SharedBatch {
  readonly jobs: Uint8Array;
  readonly results: Uint8Array;
  readonly control: Int32Array;
  readonly count: number;
  readonly chunk: number;
}

export function sharedBatch(request: VerifyRequest): SharedBatch {
  return {
    jobs: new Uint8Array(request.jobs),
    results: new Uint8Array(request.results),
    control: new Int32Array(request.control),
    count: request.count,
    chunk: request.chunk,
  };
}

/**
 * Claims one chunk of `batch` and verifies it. Returns false when nothing was
 * left to claim. Results are written before the verified count is raised
 * (a sequentially consistent atomic), so whoever reads that count as complete
 * also sees every result byte.
 */
export function verifyOneChunk(batch: SharedBatch, verifier: SignatureVerifier): boolean {
  const start = Atomics.add(batch.control, NEXT_INDEX, batch.chunk);
  if (start >= batch.count) return false;
  const end = Math.min(batch.count, start + batch.chunk);
  const { jobs, results } = batch;
  for (let i = start, at = start * JOB_BYTES; i < end; i++, at += JOB_BYTES) {
    const ok = verifier.verify(
      jobs.subarray(at + MSG_OFFSET, at + SIG_OFFSET),
      jobs.subarray(at + SIG_OFFSET, at + PUB_OFFSET),
      jobs.subarray(at + PUB_OFFSET, at + JOB_BYTES),
    );
    results[i] = ok ? 1 : 0;
  }
  Atomics.add(batch.control, DONE_COUNT, end - start);
  return true;
}

function isComplete(batch: SharedBatch): boolean {
  return Atomics.load(batch.control, DONE_COUNT) >= batch.count;
}

/**
 * Chunk size: small enough that the last chunk does not leave the others idle
 * for long (64 checks are ~4 ms), large enough that claiming is negligible.
 */
function chunkSize(count: number, participants: number): number {
  return Math.max(4, Math.min(64, Math.ceil(count / (participants * 8))));
}

function wellFormed(job: VerifyJob): boolean {
  return (
    job.msg.length === DIGEST_BYTES &&
    job.sig.length === SIGNATURE_BYTES &&
    job.pub.length === PUBLIC_KEY_BYTES
  );
}

interface PendingBatch {
  readonly shared: SharedBatch;
  /** Workers that hold the batch and have not reported it drained. */
  readonly holders: Set<Slot>;
  settled: boolean;
  resolve(): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  /** Batches sent to this worker that it has not reported drained. */
  readonly pending: Map<number, PendingBatch>;
  backend: string;
  alive: boolean;
}

const DEFAULT_INLINE_BELOW = 16;
const DEFAULT_STARTUP_TIMEOUT_MS = 30_000;

export class ParallelVerifier {
  private readonly slots: Slot[];
  private readonly inline: SignatureVerifier;
  private readonly inlineBelow: number;
  private readonly onWorkerError: ((error: VerifyPoolError) => void) | undefined;
  private nextId = 0;
  private closed = false;

  private constructor(slots: Slot[], opts: ParallelVerifierOptions) {
    this.slots = slots;
    this.inline = bestVerifier();
    this.inlineBelow = opts.inlineBelow ?? DEFAULT_INLINE_BELOW;
    this.onWorkerError = opts.onWorkerError;
  }

  /** Starts the workers and waits until each has loaded its backend. */
  static async init(opts: ParallelVerifierOptions): Promise<ParallelVerifier> {
    if (!Number.isSafeInteger(opts.workers) || opts.workers < 0) {
      throw new VerifyPoolError('VERIFY_POOL_CONFIG', 'workers must be a non-negative integer', {
        workers: opts.workers,
      });
    }
    const inlineBelow = opts.inlineBelow ?? DEFAULT_INLINE_BELOW;
    if (!Number.isSafeInteger(inlineBelow) || inlineBelow < 0) {
      const why = 'inlineBelow must be a non-negative integer';
      throw new VerifyPoolError('VERIFY_POOL_CONFIG', why, { inlineBelow });
    }
    const url = opts.workerUrl ?? new URL('./verify-worker.ts', import.meta.url);
    const timeoutMs = opts.startupTimeoutMs ?? DEFAULT_STARTUP_TIMEOUT_MS;
    const slots: Slot[] = [];
    const pool = new ParallelVerifier(slots, opts);
    try {
      for (let i = 0; i < opts.workers; i++) {
        const worker = new Worker(url, { name: `utxod-verify-${i}` });
        // An 'error' with no listener would crash the process; the listeners
        // that act on errors come and go (startup, then `watch`), this one stays.
        worker.on('error', () => {});
        slots.push({ worker, pending: new Map(), backend: 'starting', alive: true });
      }
      await Promise.all(
        slots.map(async (slot) => {
          slot.backend = await waitReady(slot.worker, timeoutMs);
          // Same tick as the ready message: no event can slip in unwatched.
          pool.watch(slot);
          slot.worker.unref();
        }),
      );
    } catch (thrown) {
      await pool.close();
      if (thrown instanceof VerifyPoolError) throw thrown;
      const why = 'cannot start signature workers';
      throw new VerifyPoolError('VERIFY_WORKER_FAILED', why, {}, { cause: thrown });
    }
    return pool;
  }

  /** Workers still running (fewer than requested if some died). */
  get workerCount(): number {
    let n = 0;
    for (const slot of this.slots) if (slot.alive) n++;
    return n;
  }

  /** The backend each live worker loaded ('native' or 'wasm'), and the inline one. */
  get backends(): { inline: string; workers: string[] } {
    return {
      inline: this.inline.name,
      workers: this.slots.filter((s) => s.alive).map((s) => s.backend),
    };
  }

  /**
   * One boolean per job, in order. `opts.inlineBelow` overrides the pool's
   * threshold for this batch (the coalescer sends small batches on purpose). Malformed jobs (wrong lengths) are false,
   * as with `SignatureVerifier.verify`. Rejects with a `VerifyPoolError` if
   * the pool is closed or a worker dies while holding part of the batch.
   */
  async verifyBatch(
    jobs: ReadonlyArray<VerifyJob>,
    opts: { inlineBelow?: number } = {},
  ): Promise<boolean[]> {
    if (this.closed) throw closedError();
    const live = this.slots.filter((s) => s.alive);
    const inlineBelow = opts.inlineBelow ?? this.inlineBelow;
    if (live.length === 0 || jobs.length < inlineBelow || jobs.length === 0) {
      return jobs.map((j) => this.inline.verify(j.msg, j.sig, j.pub));
    }
    const count = jobs.length;
    const request: VerifyRequest = {
      id: this.nextId++,
      jobs: new SharedArrayBuffer(count * JOB_BYTES),
      results: new SharedArrayBuffer(count),
      control: new SharedArrayBuffer(CONTROL_WORDS * Int32Array.BYTES_PER_ELEMENT),
      count,
      chunk: chunkSize(count, live.length + 1),
    };
    const shared = sharedBatch(request);
    for (let i = 0, at = 0; i < count; i++, at += JOB_BYTES) {
      const job = jobs[i]!;
      // A malformed job stays all zeros: pubkey prefix 0x00 verifies false.
      if (!wellFormed(job)) continue;
      shared.jobs.set(job.msg, at + MSG_OFFSET);
      shared.jobs.set(job.sig, at + SIG_OFFSET);
      shared.jobs.set(job.pub, at + PUB_OFFSET);
    }
    await new Promise<void>((resolve, reject) => {
      const batch: PendingBatch = {
        shared,
        holders: new Set(live),
        settled: false,
        resolve,
        reject,
      };
      for (const slot of live) {
        if (slot.pending.size === 0) slot.worker.ref();
        slot.pending.set(request.id, batch);
        slot.worker.postMessage(request);
      }
      this.help(batch);
    });
    const out = new Array<boolean>(count);
    for (let i = 0; i < count; i++) out[i] = shared.results[i] === 1;
    return out;
  }

  /** Rejects outstanding batches and terminates every worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exits: Promise<void>[] = [];
    for (const slot of this.slots) {
      if (!slot.alive) continue;
      slot.alive = false;
      this.failPending(slot, closedError());
      exits.push(stopWorker(slot.worker));
    }
    await Promise.all(exits);
  }

  /** The calling thread claims chunks too, one per event-loop turn, until none is left. */
  private help(batch: PendingBatch): void {
    setImmediate(() => {
      if (batch.settled) return;
      if (verifyOneChunk(batch.shared, this.inline)) {
        this.help(batch);
      } else {
        this.settleIfComplete(batch);
      }
    });
  }

  /**
   * Resolves once every record is verified. A worker that died holding a
   * claimed chunk leaves the count short for good: `die` rejects instead.
   */
  private settleIfComplete(batch: PendingBatch): void {
    if (batch.settled || !isComplete(batch.shared)) return;
    this.settle(batch);
    batch.resolve();
  }

  /**
   * Rejects the batches `slot` still held. One whose results are all in
   * resolves instead: nobody is left holding part of it.
   */
  private failPending(slot: Slot, error: Error): void {
    for (const batch of [...slot.pending.values()]) {
      if (batch.settled) continue;
      this.settle(batch);
      if (isComplete(batch.shared)) batch.resolve();
      else batch.reject(error);
    }
    slot.pending.clear();
  }

  private settle(batch: PendingBatch): void {
    batch.settled = true;
    for (const slot of batch.holders) this.release(slot, batch);
  }

  private release(slot: Slot, batch: PendingBatch): void {
    for (const [id, held] of slot.pending) {
      if (held !== batch) continue;
      slot.pending.delete(id);
      if (slot.pending.size === 0 && slot.alive) slot.worker.unref();
    }
  }

  private watch(slot: Slot): void {
    const { worker } = slot;
    const threadId = worker.threadId; // reads -1 once the thread has exited
    worker.on('message', (message: VerifyWorkerMessage) => {
      if (message.type !== 'drained') return;
      const batch = slot.pending.get(message.id);
      if (batch === undefined) return;
      batch.holders.delete(slot);
      this.release(slot, batch);
      this.settleIfComplete(batch);
    });
    const die = (why: string, cause?: unknown): void => {
      if (!slot.alive) return; // closed, or already reported
      slot.alive = false;
      const error = new VerifyPoolError(
        'VERIFY_WORKER_FAILED',
        `signature worker ${threadId} failed: ${why}`,
        { threadId, pendingChunks: slot.pending.size },
        cause === undefined ? undefined : { cause },
      );
      this.failPending(slot, error);
      void worker.terminate();
      this.onWorkerError?.(error);
    };
    worker.on('error', (err) => die(asError(err).message, err));
    worker.on('messageerror', (err) => die(`undeliverable message: ${asError(err).message}`, err));
    worker.on('exit', (code) => die(`exited with code ${code}`));
  }
}

function closedError(): VerifyPoolError {
  return new VerifyPoolError('VERIFY_POOL_CLOSED', 'signature verification pool is closed');
}

/** Resolves with the worker's backend name once it reports ready. */
function waitReady(worker: Worker, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const fail = (why: string, cause?: unknown): void => {
      cleanup();
      reject(
        new VerifyPoolError(
          'VERIFY_WORKER_FAILED',
          `signature worker failed to start: ${why}`,
          {},
          cause === undefined ? undefined : { cause },
        ),
      );
    };
    const onMessage = (message: VerifyWorkerMessage): void => {
      if (message.type !== 'ready') return;
      cleanup();
      resolve(message.backend);
    };
    const onError = (err: unknown): void => fail(asError(err).message, err);
    const onExit = (code: number): void => fail(`exited with code ${code}`);
    const timer = setTimeout(() => fail(`not ready after ${timeoutMs} ms`), timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

/** How long a worker may take to finish the chunk it is verifying before it is terminated. */
const WORKER_STOP_GRACE_MS = 5_000;

/**
 * Asks a worker to exit once its current chunk loop is done. terminate() while
 * it is inside the native secp256k1 call aborts the whole process (the addon
 * throws a C++ exception nobody catches), so it is only the last resort.
 */
function stopWorker(worker: Worker): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => void worker.terminate(), WORKER_STOP_GRACE_MS);
    worker.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    const stop: VerifyControlMessage = { type: 'stop' };
    worker.postMessage(stop);
  });
}
