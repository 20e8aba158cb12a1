/** Time as sync sees it: injectable so the state machine can be driven by tests. */
export interface SyncClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): SyncTimer;
  clearTimeout(timer: SyncTimer): void;
}

/** An opaque timer handle. */
export interface SyncTimer {
  readonly id: unknown;
}

/** The real clock; its timers do not keep the process alive. */
export const systemClock: SyncClock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { id: handle };
  },
  clearTimeout(timer) {
    clearTimeout(timer.id as NodeJS.Timeout);
  },
};

/** A clock that moves only when told to: `advance(ms)` fires every timer due. */
export class ManualClock implements SyncClock {
  private time: number;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): SyncTimer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(timer: SyncTimer): void {
    this.timers.delete(timer.id as number);
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      let dueId = -1;
      let dueAt = Number.POSITIVE_INFINITY;
      for (const [id, t] of this.timers) {
        if (t.at <= until && t.at < dueAt) {
          dueAt = t.at;
          dueId = id;
        }
      }
      if (dueId === -1) break;
      const timer = this.timers.get(dueId)!;
      this.timers.delete(dueId);
      this.time = Math.max(this.time, timer.at);
      timer.fn();
    }
    this.time = until;
  }
}
