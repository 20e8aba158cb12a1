/**
 * The one way to inject time: wall-clock milliseconds and timers. Components
 * take a `Clock` in their modules (default `systemClock`) so that tests drive
 * them with `ManualClock` (test/support/manual-clock.ts) instead of waiting.
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  clearTimeout(timer: Timer): void;
}

/** An opaque timer handle. */
export interface Timer {
  readonly id: unknown;
}

/** The real clock; its timers do not keep the process alive. */
export const systemClock: Clock = {
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
