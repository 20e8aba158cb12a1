import type { Clock, Timer } from '../../src/util/clock.ts';

/** A clock that moves only when told to: `advance(ms)` fires every timer due. */
export class ManualClock implements Clock {
  private time: number;
  private nextId = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn });
    return { id };
  }

  clearTimeout(timer: Timer): void {
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

  /**
   * Moves time to the earliest pending timer and fires it (and only it): for
   * tests that step a component timeout by timeout. False when none is pending.
   */
  fireNext(): boolean {
    let dueId = -1;
    let dueAt = Number.POSITIVE_INFINITY;
    for (const [id, t] of this.timers) {
      if (t.at < dueAt || (t.at === dueAt && id < dueId)) {
        dueAt = t.at;
        dueId = id;
      }
    }
    if (dueId === -1) return false;
    const timer = this.timers.get(dueId)!;
    this.timers.delete(dueId);
    this.time = Math.max(this.time, timer.at);
    timer.fn();
    return true;
  }
}
