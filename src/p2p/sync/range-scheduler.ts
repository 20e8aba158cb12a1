/**
 * Downloads a numbered sequence (block heights; snapshot chunks work the same
 * way) in contiguous ranges from several peers at once: keeps the ranges of a
 * moving window, hands pending ones to peers its owner picks, times requests
 * out, checks answers through its owner, splits off what a peer served only
 * in part, and moves a range that failed to another peer. Answers to an
 * attempt that was given up are ignored (each attempt has a token).
 *
 * It knows nothing of blocks or peers' standing: the owner picks peers,
 * fetches, verifies, and decides what a fault costs (`RangeSchedulerHooks`).
 * Ranges that are `ready` wait, in order, for the owner to consume them.
 */
import type { Clock, Timer } from '../../util/index.ts';

export type RangeState = 'pending' | 'requested' | 'verifying' | 'ready' | 'importing';

export interface Range<Item> {
  start: number;
  count: number;
  state: RangeState;
  peerId: string | null;
  /** Bumped whenever the range is re-queued, so late answers for an old attempt are ignored. */
  token: number;
  request: { controller: AbortController; timer: Timer; startedAt: number; probe: boolean } | null;
  readonly excluded: Set<string>;
  items: Item[] | null;
  bytes: number;
}

export interface RangeSchedulerOptions {
  /** Items per range. */
  readonly rangeSize: number;
  /** Requests outstanding at once, over all peers. */
  readonly maxRangesInFlight: number;
  /** No new ranges while downloaded, not yet consumed items hold this many bytes. */
  readonly maxBufferedBytes: number;
}

/** Who serves a range, how much of it to ask for, and how long to wait. */
export interface Assignment {
  readonly peerId: string;
  /** At most the range's count; less asks for a prefix (the rest is split off when it arrives). */
  readonly count: number;
  readonly timeoutMs: number;
  /** A small first request to a peer whose claims are not backed yet (reported back in faults). */
  readonly probe: boolean;
}

export type RangeVerdict =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly penalty: number;
      readonly code: string;
      readonly reason: string;
    };

export interface RangeFault {
  readonly kind: 'timeout' | 'failed' | 'empty' | 'invalid';
  readonly peerId: string;
  readonly start: number;
  readonly count: number;
  readonly probe: boolean;
  /** 'failed': what the fetch threw; 'invalid': the verdict. */
  readonly error?: unknown;
  readonly verdict?: Extract<RangeVerdict, { ok: false }>;
}

export interface RangeSchedulerHooks<Item> {
  /** A peer for `range` now, or null when none can take it. */
  assign(
    range: Readonly<Range<Item>>,
    now: number,
    inflight: (peerId: string) => number,
  ): Assignment | null;
  fetch(peerId: string, start: number, count: number, signal: AbortSignal): Promise<Item[]>;
  /** Checks an answer (1..count items); throws only when the check itself could not run. */
  verify(range: Readonly<Range<Item>>, items: readonly Item[]): Promise<RangeVerdict>;
  itemBytes(item: Item): number;
  /** The range went back to the queue because of the peer; the owner decides what it costs. */
  onFault(fault: RangeFault): void;
  /** The peer served `items` of the range, checked (`partial`: fewer than asked; the rest was split off). */
  onServed(
    peerId: string,
    range: Readonly<Range<Item>>,
    items: readonly Item[],
    elapsedMs: number,
    partial: boolean,
  ): void;
  /** The check could not run (not the peer's fault): the range is re-queued. */
  onCheckError(error: unknown): void;
  /** Something changed that may allow more work. */
  onChange(): void;
}

export class RangeScheduler<Item> {
  private readonly opts: RangeSchedulerOptions;
  private readonly hooks: RangeSchedulerHooks<Item>;
  private readonly clock: Clock;
  /** Contiguous, sorted by start. */
  private list: Range<Item>[] = [];
  private buffered = 0;
  private readonly perPeer = new Map<string, number>();

  constructor(
    opts: RangeSchedulerOptions,
    modules: { hooks: RangeSchedulerHooks<Item>; clock: Clock },
  ) {
    if (opts.rangeSize < 1 || opts.maxRangesInFlight < 1)
      throw new RangeError('range size and requests in flight must be at least 1');
    this.opts = opts;
    this.hooks = modules.hooks;
    this.clock = modules.clock;
  }

  get ranges(): readonly Range<Item>[] {
    return this.list;
  }

  get bufferedBytes(): number {
    return this.buffered;
  }

  get inFlight(): number {
    let n = 0;
    for (const r of this.list) if (r.state === 'requested') n++;
    return n;
  }

  inflight = (peerId: string): number => this.perPeer.get(peerId) ?? 0;

  /** Forgets ranges wholly at or below `done`, and trims a pending first range to start above it. */
  dropThrough(done: number): void {
    while (this.list.length > 0) {
      const first = this.list[0]!;
      if (first.state === 'importing' || first.start + first.count - 1 > done) break;
      this.requeue(first, null);
      this.list.shift();
    }
    const first = this.list[0];
    if (first !== undefined && first.state === 'pending' && first.start <= done) {
      const end = first.start + first.count;
      first.start = done + 1;
      first.count = end - first.start;
    }
  }

  /** Forgets pending ranges at the end that start above `target` (they come back if it rises). */
  trimAbove(target: number): void {
    while (this.list.length > 0) {
      const last = this.list.at(-1)!;
      if (last.state !== 'pending' || last.start <= target) break;
      this.list.pop();
    }
  }

  /**
   * Adds full-size ranges from the end of the last one (or `from`) while they
   * start at or below `limit` and the buffer has room.
   */
  extend(from: number, limit: number): void {
    const last = this.list.at(-1);
    let end = last === undefined ? from : last.start + last.count;
    while (end <= limit && this.buffered < this.opts.maxBufferedBytes) {
      this.list.push(newRange(end, this.opts.rangeSize));
      end += this.opts.rangeSize;
    }
  }

  /** Hands pending ranges, lowest first, to peers while requests may be added. */
  assignAll(now: number): void {
    let inFlight = this.inFlight;
    for (let i = 0; i < this.list.length && inFlight < this.opts.maxRangesInFlight; i++) {
      const range = this.list[i]!;
      if (range.state !== 'pending') continue;
      const assignment = this.hooks.assign(range, now, this.inflight);
      if (assignment === null) continue;
      this.request(range, assignment);
      inFlight++;
    }
  }

  /** Back to pending, for another peer (not `exclude`). Late answers to the old attempt are ignored. */
  requeue(range: Range<Item>, exclude: string | null): void {
    this.cancelRequest(range);
    if (range.state === 'ready') this.buffered -= range.bytes;
    range.token++;
    range.state = 'pending';
    range.items = null;
    range.bytes = 0;
    if (exclude !== null) range.excluded.add(exclude);
    range.peerId = null;
  }

  /** Re-queues the peer's ranges in the given states (never `importing`: that one is being consumed). */
  requeuePeer(peerId: string, states: readonly RangeState[], exclude: boolean): void {
    for (const range of this.list) {
      if (range.peerId === peerId && states.includes(range.state) && range.state !== 'importing')
        this.requeue(range, exclude ? peerId : null);
    }
  }

  /** Forgets everything (aborting requests). */
  clear(): void {
    for (const range of this.list) this.requeue(range, null);
    this.list = [];
    this.buffered = 0;
  }

  /** The first range, if it is ready: marked `importing` and handed to the consumer. */
  takeReady(): Range<Item> | null {
    const range = this.list[0];
    if (range === undefined || range.state !== 'ready') return null;
    range.state = 'importing';
    return range;
  }

  /** The consumer is done with `range`. */
  complete(range: Range<Item>): void {
    this.buffered -= range.bytes;
    range.items = null;
    range.bytes = 0;
    const index = this.list.indexOf(range);
    if (index !== -1) this.list.splice(index, 1);
  }

  /** The consumer used `range` up to `next` - 1; the rest goes back to the queue (not to `exclude`). */
  retryFrom(range: Range<Item>, next: number, exclude: string | null): void {
    const end = range.start + range.count;
    this.buffered -= range.bytes;
    range.bytes = 0;
    range.state = 'pending';
    range.start = next;
    range.count = end - next;
    range.token++;
    range.items = null;
    if (exclude !== null) range.excluded.add(exclude);
    range.peerId = null;
  }

  private request(range: Range<Item>, assignment: Assignment): void {
    const controller = new AbortController();
    const token = ++range.token;
    const { peerId, timeoutMs, probe } = assignment;
    const timer = this.clock.setTimeout(() => this.onTimeout(range, token), timeoutMs);
    range.state = 'requested';
    range.peerId = peerId;
    range.request = { controller, timer, startedAt: this.clock.now(), probe };
    this.perPeer.set(peerId, this.inflight(peerId) + 1);
    const count = Math.max(1, Math.min(range.count, assignment.count));
    let pending: Promise<Item[]>;
    try {
      pending = this.hooks.fetch(peerId, range.start, count, controller.signal);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (items) => this.onResponse(range, token, items),
      (error: unknown) => this.onFailure(range, token, error),
    );
  }

  /** Ends the outstanding request of `range`, if any (aborting it on the wire). */
  private cancelRequest(range: Range<Item>): void {
    if (range.request === null) return;
    this.finishRequest(range);
    range.request = null;
  }

  /** Clears the request's timer and the peer's count; returns how long it took. */
  private finishRequest(range: Range<Item>): number {
    const req = range.request;
    if (req === null) return 0;
    range.request = null;
    this.clock.clearTimeout(req.timer);
    req.controller.abort();
    if (range.peerId !== null) {
      const n = this.inflight(range.peerId) - 1;
      if (n > 0) this.perPeer.set(range.peerId, n);
      else this.perPeer.delete(range.peerId);
    }
    return this.clock.now() - req.startedAt;
  }

  private current(range: Range<Item>, token: number): boolean {
    return range.token === token && this.list.includes(range);
  }

  private fault(
    range: Range<Item>,
    fault: Omit<RangeFault, 'peerId' | 'start' | 'count' | 'probe'>,
  ): void {
    const peerId = range.peerId!;
    const { start, count } = range;
    const probe = range.request?.probe ?? false;
    this.requeue(range, peerId);
    this.hooks.onFault({ ...fault, peerId, start, count, probe });
    this.hooks.onChange();
  }

  private onTimeout(range: Range<Item>, token: number): void {
    if (!this.current(range, token) || range.state !== 'requested') return;
    this.fault(range, { kind: 'timeout' });
  }

  private onFailure(range: Range<Item>, token: number, error: unknown): void {
    if (!this.current(range, token) || range.state !== 'requested') return;
    this.fault(range, { kind: 'failed', error });
  }

  private async onResponse(range: Range<Item>, token: number, items: Item[]): Promise<void> {
    if (!this.current(range, token) || range.state !== 'requested') return;
    if (!Array.isArray(items) || items.length === 0) {
      this.fault(range, { kind: 'empty' });
      return;
    }
    const probe = range.request?.probe ?? false;
    const elapsed = this.finishRequest(range);
    range.state = 'verifying';
    let verdict: RangeVerdict;
    try {
      verdict = await this.hooks.verify(range, items);
    } catch (error) {
      if (!this.current(range, token)) return;
      this.requeue(range, null);
      this.hooks.onCheckError(error);
      return;
    }
    if (!this.current(range, token) || range.state !== 'verifying') return;
    if (!verdict.ok) {
      const peerId = range.peerId!;
      const { start, count } = range;
      this.requeue(range, peerId);
      this.hooks.onFault({ kind: 'invalid', peerId, start, count, probe, verdict });
      this.hooks.onChange();
      return;
    }
    const partial = items.length < range.count;
    if (partial) {
      const rest = newRange<Item>(range.start + items.length, range.count - items.length);
      range.count = items.length;
      this.list.splice(this.list.indexOf(range) + 1, 0, rest);
    }
    range.items = items;
    range.bytes = items.reduce((sum, item) => sum + this.hooks.itemBytes(item), 0);
    this.buffered += range.bytes;
    range.state = 'ready';
    this.hooks.onServed(range.peerId!, range, items, elapsed, partial);
    this.hooks.onChange();
  }
}

function newRange<Item>(start: number, count: number): Range<Item> {
  return {
    start,
    count,
    state: 'pending',
    peerId: null,
    token: 0,
    request: null,
    excluded: new Set(),
    items: null,
    bytes: 0,
  };
}
