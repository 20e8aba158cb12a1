export interface LockoutOptions {
  /** Failures within `windowMs` that lock the key id or IP out. */
  readonly maxAttempts: number;
  readonly windowMs: number;
  /** How long the lockout lasts, counted from the failure that triggered it. */
  readonly durationMs: number;
  /** Subjects tracked at most; the oldest are forgotten first (bounds memory under a flood). */
  readonly maxTracked?: number;
  readonly now?: () => number;
}

interface Tracked {
  failures: number[];
  lockedUntil: number;
}

/**
 * Counts failed credential attempts per subject ("key:<id>", "ip:<addr>") and
 * locks a subject out for a while after too many in a window. Kept in memory:
 * a restart forgets the counters, which only matters to an attacker who can
 * also restart the node.
 */
export class LockoutTracker {
  private readonly opts: LockoutOptions;
  private readonly now: () => number;
  private readonly maxTracked: number;
  private readonly tracked = new Map<string, Tracked>();

  constructor(opts: LockoutOptions) {
    this.opts = opts;
    this.now = opts.now ?? Date.now;
    this.maxTracked = opts.maxTracked ?? 100_000;
  }

  /** The latest lockout end among these subjects, in ms, or null when none is locked. */
  lockedUntil(subjects: readonly string[]): { subject: string; until: number } | null {
    const now = this.now();
    let worst: { subject: string; until: number } | null = null;
    for (const subject of subjects) {
      const entry = this.tracked.get(subject);
      if (
        entry !== undefined &&
        entry.lockedUntil > now &&
        (worst === null || entry.lockedUntil > worst.until)
      )
        worst = { subject, until: entry.lockedUntil };
    }
    return worst;
  }

  /** Records a failure for each subject; returns the ones this failure locked out. */
  fail(subjects: readonly string[]): string[] {
    const now = this.now();
    const locked: string[] = [];
    for (const subject of subjects) {
      let entry = this.tracked.get(subject);
      if (entry === undefined) {
        if (this.tracked.size >= this.maxTracked) {
          const oldest = this.tracked.keys().next();
          if (oldest.done !== true) this.tracked.delete(oldest.value);
        }
        entry = { failures: [], lockedUntil: 0 };
      }
      // Re-inserted so that Map order is least recently failed first.
      this.tracked.delete(subject);
      this.tracked.set(subject, entry);
      entry.failures = entry.failures.filter((t) => t > now - this.opts.windowMs);
      entry.failures.push(now);
      if (entry.failures.length >= this.opts.maxAttempts) {
        entry.lockedUntil = now + this.opts.durationMs;
        entry.failures = [];
        locked.push(subject);
      }
    }
    return locked;
  }

  /** A success clears the subjects' failure counts (not an active lockout: that has to run out). */
  succeed(subjects: readonly string[]): void {
    for (const subject of subjects) {
      const entry = this.tracked.get(subject);
      if (entry !== undefined && entry.lockedUntil <= this.now()) this.tracked.delete(subject);
    }
  }
}
