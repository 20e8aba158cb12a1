/**
 * Peer scores: every peer starts at 0; misbehaviour subtracts a penalty
 * (0-100, the same scale as VerificationError.penalty); the score recovers
 * towards 0 with a half-life. At or below BAN_THRESHOLD the peer is banned.
 */

import { type Clock, systemClock } from '../util/index.ts';

export const BAN_THRESHOLD = -100;
export const SCORE_HALF_LIFE_MS = 10 * 60_000;

/**
 * A penalty this large bans on its own, whatever the peer's score was: the
 * peer provably broke a rule no honest node breaks. Sync also stops using such
 * a peer at once (anything smaller only rests it).
 */
export function bansAtOnce(penalty: number): boolean {
  return -penalty <= BAN_THRESHOLD;
}

/**
 * The one table of penalties for network misbehaviour, for gossip, req/resp
 * and sync alike (verification penalties come from the errors themselves,
 * `VerificationCodes` in consensus/errors.ts, on the same 0-100 scale).
 */
export const Penalty = {
  /** A gossip message or request that does not decode, or exceeds its size bound. */
  malformed: 100,
  /** A request frame larger than the protocol allows. */
  oversized: 100,
  /** A response item we did not ask for (wrong height, extra items). */
  unrequested: 25,
  /** A request that did not finish in time. */
  timeout: 5,
  /** More inbound requests than the protocol's quota. */
  rateLimited: 5,
  /** Provably wrong sync data: wrong heights, a block that does not match its certificate. */
  violation: 100,
  /** A sync request that failed on the way (stream reset, dial failure, server busy). */
  requestFailed: 2,
  /**
   * A claimed tip the peer could not back (no blocks for a range its status
   * said it had, or no answer to a probe): the first time; sync doubles it for
   * each further refutation of the same peer, so a persistent liar is banned
   * within a few rounds.
   */
  unbackedClaim: 10,
} as const;

interface Entry {
  score: number;
  updated: number;
}

export class PeerScores {
  private readonly entries = new Map<string, Entry>();
  private readonly clock: Pick<Clock, 'now'>;

  constructor(modules: { clock?: Pick<Clock, 'now'> } = {}) {
    this.clock = modules.clock ?? systemClock;
  }

  score(peerId: string): number {
    const entry = this.entries.get(peerId);
    if (entry === undefined) return 0;
    this.decay(entry);
    return entry.score;
  }

  /** Subtracts `penalty`; returns true when the peer has now reached the ban threshold. */
  penalize(peerId: string, penalty: number): boolean {
    if (!(penalty > 0)) return false;
    let entry = this.entries.get(peerId);
    if (entry === undefined) {
      entry = { score: 0, updated: this.clock.now() };
      this.entries.set(peerId, entry);
    } else {
      this.decay(entry);
    }
    entry.score -= Math.min(penalty, 100);
    return entry.score <= BAN_THRESHOLD;
  }

  forget(peerId: string): void {
    this.entries.delete(peerId);
  }

  /** Drops entries that have recovered to ~0 (bounded memory). */
  prune(): void {
    for (const [peerId, entry] of this.entries) {
      this.decay(entry);
      if (entry.score > -1) this.entries.delete(peerId);
    }
  }

  private decay(entry: Entry): void {
    const now = this.clock.now();
    const elapsed = now - entry.updated;
    if (elapsed <= 0) return;
    entry.score *= 0.5 ** (elapsed / SCORE_HALF_LIFE_MS);
    entry.updated = now;
  }
}
