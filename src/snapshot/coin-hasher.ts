/**
 * The MuHash of a snapshot's coins, computed in worker threads. One element
 * costs a SHA-256, 384 bytes of ChaCha20 and a 3072-bit modular product, and
 * was most of a rebuild's time on the calling thread. MuHash is a product, so
 * the order of the factors does not matter: every chunk's coins are hashed
 * into a partial state by whichever worker has the least work queued, and the
 * caller multiplies the partials into the total (two products per chunk; the
 * one inversion stays in `finalize`). Meanwhile the calling thread decodes
 * the next chunk and writes LevelDB.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { MuHash3072 } from '../crypto/index.ts';
import { asError } from '../util/index.ts';
import { SnapshotError } from './errors.ts';

/** Caller -> worker: `elements` holds `elements.byteLength / size` elements of `size` bytes. */
export interface HashRequest {
  readonly id: number;
  readonly elements: Uint8Array;
  readonly size: number;
}

/** Worker -> caller: loaded, or the partial state (MuHash3072.serialize) of one request. */
export type HashReply =
  | { readonly type: 'ready' }
  | { readonly type: 'done'; readonly id: number; readonly state: Uint8Array };

/** The partial MuHash of fixed-size elements packed one after the other. */
export function hashElements(elements: Uint8Array, size: number): MuHash3072 {
  const partial = new MuHash3072();
  for (let at = 0; at < elements.length; at += size)
    partial.insert(elements.subarray(at, at + size));
  return partial;
}

/**
 * Below this many coins the calling thread hashes alone: a worker spends
 * 0.3-1 s of CPU loading its modules (more on a busy machine), which is what
 * hashing ~50,000 coins costs, and it takes that CPU from the calling thread.
 */
export const MIN_COINS_FOR_WORKERS = 100_000n;

/** Workers for a snapshot of `coins`: one per core, at most 4 (the calling thread's share is small). */
export function defaultHashWorkers(coins: bigint): number {
  return coins < MIN_COINS_FOR_WORKERS ? 0 : Math.min(4, availableParallelism());
}

interface Slot {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve(m: MuHash3072): void; reject(e: Error): void }>;
  alive: boolean;
  /** Loaded: until then its share is hashed on the calling thread. */
  ready: boolean;
}

export class CoinHasher {
  private readonly slots: Slot[] = [];
  private nextId = 0;

  /** `workers` 0 hashes on the calling thread (tests, tiny snapshots). */
  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const worker = new Worker(new URL('./coin-hasher-worker.ts', import.meta.url), {
        name: `utxod-muhash-${i}`,
      });
      const slot: Slot = { worker, pending: new Map(), alive: true, ready: false };
      worker.on('message', (reply: HashReply) => {
        if (reply.type === 'ready') {
          slot.ready = true;
          return;
        }
        const waiter = slot.pending.get(reply.id);
        slot.pending.delete(reply.id);
        waiter?.resolve(MuHash3072.deserialize(reply.state));
      });
      const fail = (why: string) => {
        if (!slot.alive) return;
        slot.alive = false;
        const error = new SnapshotError('SNAPSHOT_LOCAL', `a MuHash worker failed: ${why}`);
        for (const waiter of slot.pending.values()) waiter.reject(error);
        slot.pending.clear();
      };
      worker.on('error', (error) => fail(asError(error).message));
      worker.on('exit', (code) => fail(`exited with code ${code}`));
      this.slots.push(slot);
    }
  }

  /**
   * The partial MuHash of `elements` (packed, `size` bytes each). The buffer
   * is transferred to a worker: the caller must not use it afterwards. While
   * no worker has loaded yet (about a second on a busy machine), the calling
   * thread hashes: a small snapshot is done before the workers would help.
   */
  hash(elements: Uint8Array, size: number): Promise<MuHash3072> {
    let slot: Slot | undefined;
    for (const s of this.slots)
      if (s.alive && s.ready && (slot === undefined || s.pending.size < slot.pending.size))
        slot = s;
    if (slot === undefined) return Promise.resolve(hashElements(elements, size));
    // Transferring detaches the whole buffer: a view into a larger one is copied first.
    const own =
      elements.byteOffset === 0 && elements.byteLength === elements.buffer.byteLength
        ? elements
        : elements.slice();
    const id = this.nextId++;
    const target = slot;
    return new Promise((resolve, reject) => {
      target.pending.set(id, { resolve, reject });
      const request: HashRequest = { id, elements: own, size };
      target.worker.postMessage(request, [own.buffer as ArrayBuffer]);
    });
  }

  /** True once every live worker has loaded. */
  workersReady(): boolean {
    return this.slots.every((s) => !s.alive || s.ready);
  }

  async close(): Promise<void> {
    const slots = this.slots.splice(0);
    for (const slot of slots) slot.alive = false;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
