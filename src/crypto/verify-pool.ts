/**
 * Signature verification spread over `worker_threads`: block validation is
 * bound by ECDSA checks (~16k/s per core native), so a block's signatures are
 * split evenly across workers and verified in parallel.
 *
 * Each worker's share travels as one transferred ArrayBuffer of fixed
 * 129-byte records (msg 32 || sig 64 || pub 33) and comes back as one byte per
 * record: no per-signature messages, no structured cloning of objects, no copy
 * on either transfer. Small batches (a single mempool transaction) are
 * verified on the calling thread, where the round trip would cost more than
 * the work.
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

/** Pool -> worker. */
export interface VerifyRequest {
  id: number;
  buffer: ArrayBuffer;
  count: number;
}

/** Worker -> pool. */
export type VerifyWorkerMessage =
  | { type: 'ready'; backend: string }
  | { type: 'result'; id: number; results: Uint8Array };

/** Verify `count` packed records; one byte (1 valid, 0 not) per record. */
export function verifyPacked(
  packed: Uint8Array,
  count: number,
  verifier: SignatureVerifier,
): Uint8Array<ArrayBuffer> {
  const results = new Uint8Array(count);
  for (let i = 0, at = 0; i < count; i++, at += JOB_BYTES) {
    const ok = verifier.verify(
      packed.subarray(at + MSG_OFFSET, at + SIG_OFFSET),
      packed.subarray(at + SIG_OFFSET, at + PUB_OFFSET),
      packed.subarray(at + PUB_OFFSET, at + JOB_BYTES),
    );
    results[i] = ok ? 1 : 0;
  }
  return results;
}

function wellFormed(job: VerifyJob): boolean {
  return (
    job.msg.length === DIGEST_BYTES &&
    job.sig.length === SIGNATURE_BYTES &&
    job.pub.length === PUBLIC_KEY_BYTES
  );
}

interface PendingChunk {
  resolve(results: Uint8Array): void;
  reject(error: Error): void;
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, PendingChunk>;
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
   * One boolean per job, in order. Malformed jobs (wrong lengths) are false,
   * as with `SignatureVerifier.verify`. Rejects with a `VerifyPoolError` if
   * the pool is closed or a worker dies while holding part of the batch.
   */
  async verifyBatch(jobs: ReadonlyArray<VerifyJob>): Promise<boolean[]> {
    if (this.closed) throw closedError();
    const live = this.slots.filter((s) => s.alive);
    if (live.length === 0 || jobs.length < this.inlineBelow) {
      return jobs.map((j) => this.inline.verify(j.msg, j.sig, j.pub));
    }
    const out = new Array<boolean>(jobs.length);
    const per = Math.ceil(jobs.length / live.length);
    const chunks: Promise<void>[] = [];
    for (let w = 0, start = 0; start < jobs.length; w++, start += per) {
      const end = Math.min(jobs.length, start + per);
      const slot = live[w]!;
      const packed = new Uint8Array((end - start) * JOB_BYTES);
      for (let i = start, at = 0; i < end; i++, at += JOB_BYTES) {
        const job = jobs[i]!;
        // A malformed job stays all zeros: pubkey prefix 0x00 verifies false.
        if (!wellFormed(job)) continue;
        packed.set(job.msg, at + MSG_OFFSET);
        packed.set(job.sig, at + SIG_OFFSET);
        packed.set(job.pub, at + PUB_OFFSET);
      }
      chunks.push(
        this.send(slot, packed, end - start).then((results) => {
          for (let i = start; i < end; i++) out[i] = results[i - start] === 1;
        }),
      );
    }
    await Promise.all(chunks);
    return out;
  }

  /** Rejects outstanding batches and terminates every worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const exits: Promise<number>[] = [];
    for (const slot of this.slots) {
      if (!slot.alive) continue;
      slot.alive = false;
      failPending(slot, closedError());
      exits.push(slot.worker.terminate());
    }
    await Promise.all(exits);
  }

  private send(slot: Slot, packed: Uint8Array<ArrayBuffer>, count: number): Promise<Uint8Array> {
    return new Promise<Uint8Array>((resolve, reject) => {
      const id = this.nextId++;
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject });
      const request: VerifyRequest = { id, buffer: packed.buffer, count };
      slot.worker.postMessage(request, [request.buffer]);
    });
  }

  private watch(slot: Slot): void {
    const { worker } = slot;
    const threadId = worker.threadId; // reads -1 once the thread has exited
    worker.on('message', (message: VerifyWorkerMessage) => {
      if (message.type !== 'result') return;
      const pending = slot.pending.get(message.id);
      if (pending === undefined) return;
      slot.pending.delete(message.id);
      if (slot.pending.size === 0) worker.unref();
      pending.resolve(message.results);
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
      failPending(slot, error);
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

function failPending(slot: Slot, error: Error): void {
  const pending = [...slot.pending.values()];
  slot.pending.clear();
  for (const p of pending) p.reject(error);
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
