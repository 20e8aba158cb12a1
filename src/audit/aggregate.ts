import type { AuditEvent, AuditLog } from './log.ts';

export interface AuditAggregatorOptions {
  /** Length of one counting window (ms). */
  readonly windowMs: number;
  /** Entries written individually per key and window; the rest are only counted. */
  readonly perKey: number;
  /** Keys tracked per window at most: beyond it, events go straight into one overflow count. */
  readonly maxKeys?: number;
}

interface Bucket {
  readonly actor: string;
  readonly action: string;
  written: number;
  suppressed: number;
  readonly codes: Record<string, number>;
}

/**
 * Keeps anonymous noise (a scanner's stream of 401s) out of the audit log
 * without losing it: per key (e.g. client address) the first `perKey` events
 * of a window are written as they come, the rest are counted, and at the end
 * of the window one summary entry per key records how many were suppressed
 * and with which codes. The log stays a record of who tried what, and its
 * size grows with the number of clients per window, not of requests.
 */
export class AuditAggregator {
  private readonly opts: AuditAggregatorOptions;
  private readonly audit: AuditLog;
  private buckets = new Map<string, Bucket>();
  private overflow = 0;
  private timer: NodeJS.Timeout | null;

  constructor(opts: AuditAggregatorOptions, modules: { audit: AuditLog }) {
    this.opts = opts;
    this.audit = modules.audit;
    this.timer = setInterval(() => this.flush(), opts.windowMs);
    this.timer.unref();
  }

  /** Records `event` under `key`: written now, or counted into the window's summary. */
  record(key: string, event: AuditEvent & { code: string }): void {
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      if (this.buckets.size >= (this.opts.maxKeys ?? 10_000)) {
        this.overflow++;
        return;
      }
      bucket = { actor: event.actor, action: event.action, written: 0, suppressed: 0, codes: {} };
      this.buckets.set(key, bucket);
    }
    if (bucket.written < this.opts.perKey) {
      bucket.written++;
      const { code: _code, ...entry } = event;
      this.audit.record(entry);
      return;
    }
    bucket.suppressed++;
    bucket.codes[event.code] = (bucket.codes[event.code] ?? 0) + 1;
  }

  /** Writes the summaries of the window that ends now and starts a new one. */
  flush(): void {
    const buckets = this.buckets;
    this.buckets = new Map();
    for (const bucket of buckets.values()) {
      if (bucket.suppressed === 0) continue;
      this.audit.record({
        actor: bucket.actor,
        action: `${bucket.action}.summary`,
        outcome: 'failure',
        details: {
          suppressed: bucket.suppressed,
          codes: bucket.codes,
          windowMs: this.opts.windowMs,
        },
      });
    }
    if (this.overflow > 0) {
      this.audit.record({
        actor: 'anonymous',
        action: 'audit.overflow',
        outcome: 'failure',
        details: { suppressed: this.overflow, windowMs: this.opts.windowMs },
      });
      this.overflow = 0;
    }
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.flush();
  }
}
