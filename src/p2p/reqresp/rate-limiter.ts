/** Per-peer token buckets: `requests` tokens, refilled evenly over `perMs`. */
export class InboundQuota {
  private readonly buckets = new Map<string, { tokens: number; updated: number }>();
  private readonly requests: number;
  private readonly perMs: number;
  private readonly now: () => number;

  constructor(quota: { requests: number; perMs: number }, now: () => number = Date.now) {
    this.requests = quota.requests;
    this.perMs = quota.perMs;
    this.now = now;
  }

  /** Takes one token; false when the peer is over its quota. */
  take(peerId: string): boolean {
    const now = this.now();
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
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  forget(peerId: string): void {
    this.buckets.delete(peerId);
  }

  private prune(now: number): void {
    for (const [peerId, bucket] of this.buckets)
      if (now - bucket.updated > this.perMs) this.buckets.delete(peerId);
  }
}
