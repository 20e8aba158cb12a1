import { type Clock, systemClock } from '../../util/index.ts';

/**
 * Per-peer token buckets: `requests` tokens, refilled evenly over `perMs`.
 * A peer's bucket outlives its connection (it is dropped only once it has
 * been idle long enough to be full again), so redialling does not refill it.
 * `charge` lets a bucket go into debt (bytes served after the fact): the
 * peer's next requests wait until the debt is paid back by the refill.
 */
export class InboundQuota {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  private readonly requests: number;
  private readonly perMs: number;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(
    quota: { requests: number; perMs: number },
    modules: { clock?: Pick<Clock, 'now'> } = {},
  ) {
    this.requests = quota.requests;
    this.perMs = quota.perMs;
    this.clock = modules.clock ?? systemClock;
  }

  /** Takes `n` tokens (default one); false, taking none, when the peer has fewer. */
  take(peerId: string, n = 1): boolean {
    const bucket = this.bucket(peerId);
    if (bucket.tokens < n) return false;
    bucket.tokens -= n;
    return true;
  }

  /** True while the peer has any credit left (for costs known only after serving). */
  hasCredit(peerId: string): boolean {
    return this.bucket(peerId).tokens > 0;
  }

  /** Takes `n` tokens after the fact, going into debt if need be. */
  charge(peerId: string, n: number): void {
    this.bucket(peerId).tokens -= n;
  }

  private bucket(peerId: string): { tokens: number; updated: number } {
    const now = this.clock.now();
    let bucket = this.buckets.get(peerId);
    if (bucket === undefined) {
      if (this.buckets.size > 10_000) this.prune(now);
      bucket = { tokens: this.requests, updated: now };
      this.buckets.set(peerId, bucket);
    } else {
      const refill = ((now - bucket.updated) * this.requests) / this.perMs;
      bucket.tokens = Math.min(this.requests, bucket.tokens + refill);
      bucket.updated = now;
    }
    return bucket;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Drops buckets that have refilled completely (they would start full anyway). */
  private prune(now: number): void {
    for (const [peerId, bucket] of this.buckets) {
      const full = bucket.tokens + ((now - bucket.updated) * this.requests) / this.perMs;
      if (full >= this.requests) this.buckets.delete(peerId);
    }
  }
}
