/**
 * Sync speed: blocks connected over a sliding window, for the status
 * (blocks per second, ETA), the metrics and the periodic progress log.
 */
import type { SyncStatus } from './status.ts';

const RATE_WINDOW_MS = 10_000;
const MAX_SAMPLES = 10_000;

export class SyncProgress {
  private samples: Array<{ t: number; height: number }> = [];

  /** A block at `height` connected at time `now`. */
  record(now: number, height: number): void {
    this.samples.push({ t: now, height });
    this.trim(now);
  }

  blocksPerSecond(now: number): number {
    this.trim(now);
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (first === undefined || last === undefined || last === first) return 0;
    const span = Math.max(now - first.t, 1);
    return ((last.height - first.height) * 1000) / span;
  }

  /** Seconds until `remaining` more blocks at the current speed (0 when none remain, null when unknown). */
  etaSeconds(now: number, remaining: number): number | null {
    if (remaining <= 0) return 0;
    const rate = this.blocksPerSecond(now);
    return rate > 0 ? Math.ceil(remaining / rate) : null;
  }

  private trim(now: number): void {
    while (this.samples.length > 2 && this.samples[0]!.t < now - RATE_WINDOW_MS)
      this.samples.shift();
    if (this.samples.length > MAX_SAMPLES)
      this.samples.splice(0, this.samples.length - MAX_SAMPLES);
  }
}

/** The fields of the periodic 'sync progress' log line. */
export function progressFields(status: SyncStatus, bufferedBytes: number): Record<string, unknown> {
  return {
    height: status.currentHeight,
    target: status.targetHeight,
    blocksPerSecond: status.blocksPerSecond,
    etaSeconds: status.etaSeconds,
    peers: status.peers,
    rangesInFlight: status.rangesInFlight,
    bufferedMb: Math.round(bufferedBytes / 1024 / 102.4) / 10,
  };
}
