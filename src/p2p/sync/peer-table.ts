/**
 * The peers block sync knows: what each claims (its status), what each has
 * proven (valid blocks it served), how it behaved, and which target those
 * claims support.
 *
 * A claim alone moves nothing the outside sees. Readiness, the target shown in
 * the status, and whether gossiped transactions are held back follow the
 * *trusted* target: the highest block proven by a valid range (headers with
 * commit certificates), a height several peers agree on, or the claim of a
 * peer that has backed its claims with valid blocks. A lone claim above that
 * is only probed: the peer is asked for the first block it claims (a small
 * request with a short deadline). A peer that cannot back it is refuted: the
 * claim is dropped, its claims stop counting until it serves valid blocks,
 * and the penalty doubles with each refutation, so a peer that keeps lying is
 * banned within a few rounds. A fresh identity starts unbacked, so lying
 * under a new key delays nothing either.
 */
import type { Logger } from 'pino';
import { asError, bytesEqual, type Clock } from '../../util/index.ts';
import { bansAtOnce, Penalty } from '../scoring.ts';
import { abortable } from './deadline.ts';
import type { SyncMetrics } from './metrics.ts';
import type { PeerInfo, PeerSource, StatusMessage, SyncClient } from './network.ts';

export interface PeerState {
  readonly peerId: string;
  /** The host it connects from (its IP, else its whole address): agreement counts hosts, not identities. */
  readonly address: string;
  /** The height the peer last claimed (null until its status arrives). */
  height: number | null;
  /** The lowest height it holds (it began from a snapshot): never asked for blocks below. */
  earliest: number;
  /** When its last status arrived (handshake, refresh, or our own request). */
  statusAt: number;
  statusInFlight: AbortController | null;
  cooldownUntil: number;
  /** Served something provably wrong: never used again while connected. */
  misbehaved: boolean;
  /** Milliseconds per block served, smoothed; lower is better. */
  msPerBlock: number;
  /** Served a valid range since it last failed to back a claim: its claims count as a target. */
  backed: boolean;
  /** Claims it failed to back (empty answer, or no answer to a probe); each doubles the next penalty. */
  refutations: number;
  /** Highest block it served that passed the range checks. */
  provenHeight: number;
}

export interface PeerTableOptions {
  readonly statusTimeoutMs: number;
  /** A status younger than this is not asked for again (the host refreshes statuses itself). */
  readonly statusMaxAgeMs: number;
  /** A peer that stalled or failed gets no new work for this long. */
  readonly peerCooldownMs: number;
  /** Unrefuted peers on distinct hosts whose claims must reach a height for it to count as agreed. */
  readonly minAgreeingPeers: number;
}

export interface PeerTableModules {
  /** Where penalties go (the host's peer scores). */
  readonly source: Pick<PeerSource, 'reportPeer'>;
  readonly client: Pick<SyncClient, 'getStatus'>;
  readonly logger: Logger;
  readonly metrics: SyncMetrics | null;
  readonly clock: Clock;
  /** The local tip (a status naming another block at our height is a fork). */
  readonly tip: () => { readonly height: number; readonly hash: Uint8Array };
  /** Something changed that may let sync schedule work. */
  readonly onChange: () => void;
  /** The peer is no longer used: whatever it sent and we have not connected must be dropped. */
  readonly onCutOff: (peerId: string) => void;
}

export class PeerTable {
  private readonly opts: PeerTableOptions;
  private readonly modules: PeerTableModules;
  private readonly states = new Map<string, PeerState>();
  /** Highest block any peer served that passed the range checks (departed peers included). */
  private proven = 0;

  constructor(opts: PeerTableOptions, modules: PeerTableModules) {
    this.opts = opts;
    this.modules = modules;
  }

  get(peerId: string): PeerState | undefined {
    return this.states.get(peerId);
  }

  /** Peers not known to misbehave. */
  usable(): PeerState[] {
    return [...this.states.values()].filter((ps) => !ps.misbehaved);
  }

  /** True once any usable peer told us its height. */
  get known(): boolean {
    return this.usable().some((ps) => ps.height !== null);
  }

  /** The highest claim of a usable peer (never below the tip): where probing and downloading may go. */
  claimedTarget(tip: number): number {
    let target = tip;
    for (const ps of this.usable())
      if (ps.height !== null && ps.height > target) target = ps.height;
    return target;
  }

  /** What readiness and the status follow: proven, agreed, or claimed by a peer that backs its claims. */
  trustedTarget(tip: number): number {
    let target = Math.max(tip, this.proven);
    // The best unrefuted claim per host: many identities on one host are one voice.
    const byHost = new Map<string, number>();
    for (const ps of this.usable()) {
      if (ps.height === null) continue;
      if (ps.backed && ps.height > target) target = ps.height;
      if (ps.refutations > 0 && !ps.backed) continue;
      byHost.set(ps.address, Math.max(byHost.get(ps.address) ?? 0, ps.height));
    }
    if (byHost.size >= this.opts.minAgreeingPeers) {
      const claims = [...byHost.values()].sort((a, b) => b - a);
      target = Math.max(target, claims[this.opts.minAgreeingPeers - 1]!);
    }
    return target;
  }

  /** A peer that passed the handshake; its handshake status is its first claim. */
  add(info: PeerInfo): void {
    if (this.states.has(info.peerId)) this.remove(info.peerId);
    const ps: PeerState = {
      peerId: info.peerId,
      address: /\/ip[46]\/([^/]+)/.exec(info.remoteAddr)?.[1] ?? info.remoteAddr,
      height: null,
      earliest: 0,
      statusAt: Number.NEGATIVE_INFINITY,
      statusInFlight: null,
      cooldownUntil: 0,
      misbehaved: false,
      msPerBlock: 0,
      backed: false,
      refutations: 0,
      provenHeight: 0,
    };
    this.states.set(info.peerId, ps);
    this.acceptStatus(ps, info.status);
    this.queryStatus(ps);
  }

  /** Forgets the peer; returns false when it was not known. */
  remove(peerId: string): boolean {
    const ps = this.states.get(peerId);
    if (ps === undefined) return false;
    ps.statusInFlight?.abort();
    this.states.delete(peerId);
    return true;
  }

  /** Aborts outstanding status requests (sync stopping). */
  abortAll(): void {
    for (const ps of this.states.values()) ps.statusInFlight?.abort();
  }

  /** Asks the peer for its status unless a fresh one is known or a request is out. */
  queryStatus(ps: PeerState): void {
    const { clock, logger, client } = this.modules;
    if (ps.statusInFlight !== null || ps.misbehaved) return;
    if (clock.now() - ps.statusAt < this.opts.statusMaxAgeMs) return;
    const controller = new AbortController();
    ps.statusInFlight = controller;
    const timer = clock.setTimeout(() => controller.abort(), this.opts.statusTimeoutMs);
    let asked: Promise<StatusMessage>;
    try {
      asked = client.getStatus(ps.peerId, { signal: controller.signal });
    } catch (error) {
      asked = Promise.reject(error);
    }
    abortable(asked, controller.signal)
      .then(
        (status) => {
          if (controller.signal.aborted || this.states.get(ps.peerId) !== ps) return;
          this.acceptStatus(ps, status);
        },
        (error: unknown) => {
          logger.debug(
            { peer: ps.peerId, err: asError(error).message },
            'sync: status request failed',
          );
        },
      )
      .finally(() => {
        clock.clearTimeout(timer);
        if (ps.statusInFlight === controller) ps.statusInFlight = null;
        this.modules.onChange();
      });
  }

  refreshStatuses(): void {
    for (const ps of this.usable()) this.queryStatus(ps);
  }

  acceptStatus(
    ps: PeerState,
    status: Pick<StatusMessage, 'tipHeight' | 'tipHash' | 'earliestHeight'>,
  ): void {
    if (ps.misbehaved) return;
    const height = status.tipHeight;
    if (!Number.isSafeInteger(height) || height < 0) {
      this.misbehave(ps, Penalty.violation, 'SYNC_BAD_STATUS', 'status height is not a height');
      return;
    }
    const tip = this.modules.tip();
    if (height === tip.height && !bytesEqual(status.tipHash, tip.hash)) {
      this.misbehave(
        ps,
        Penalty.violation,
        'SYNC_STATUS_FORK',
        `status names another block at our tip height ${height}`,
      );
      return;
    }
    ps.height = height;
    ps.earliest = status.earliestHeight;
    ps.statusAt = this.modules.clock.now();
  }

  /**
   * `peerId` relayed something at `height` above our tip + 1: a claim like a
   * status (the relayed item is not checked here), probed like one.
   */
  hint(peerId: string, height: number): boolean {
    const ps = this.states.get(peerId);
    if (ps === undefined || ps.misbehaved || !Number.isSafeInteger(height)) return false;
    if (ps.height === null || height > ps.height) ps.height = height;
    return true;
  }

  /** The peer served valid blocks up to `last`: its claims are backed from now on. */
  served(ps: PeerState, last: number, blocks: number, elapsedMs: number): void {
    const perBlock = elapsedMs / blocks;
    ps.msPerBlock = ps.msPerBlock === 0 ? perBlock : ps.msPerBlock * 0.7 + perBlock * 0.3;
    ps.backed = true;
    if (last > ps.provenHeight) ps.provenHeight = last;
    if (last > this.proven) this.proven = last;
    if (ps.height !== null && last > ps.height) ps.height = last;
  }

  /**
   * The peer could not back its claim from `from` on (no blocks, or no answer
   * to a probe): the claim goes, its claims stop counting until it serves
   * valid blocks again, and it pays a penalty that doubles each time.
   */
  refute(ps: PeerState, from: number, code: string, reason: string): void {
    const claimed = ps.height;
    ps.height = Math.min(ps.height ?? 0, from - 1);
    ps.backed = false;
    ps.refutations++;
    const penalty = Math.min(100, Penalty.unbackedClaim * 2 ** (ps.refutations - 1));
    this.misbehave(
      ps,
      penalty,
      code,
      `${reason} (claimed ${claimed}; refutation ${ps.refutations})`,
    );
  }

  /** Penalises (when `penalty` > 0) and rests or, for a banning penalty, stops using the peer. */
  misbehave(ps: PeerState, penalty: number, code: string, reason: string): void {
    const { logger, metrics, clock } = this.modules;
    if (penalty > 0) {
      metrics?.penalties.inc({ reason: code });
      logger.warn(
        { event: 'sync-peer-penalized', peer: ps.peerId, penalty, code, reason },
        'sync: peer penalised',
      );
      this.modules.source.reportPeer(ps.peerId, penalty, `${code}: ${reason}`);
    } else {
      logger.debug({ peer: ps.peerId, code, reason }, 'sync: request failed');
    }
    if (!bansAtOnce(penalty)) {
      ps.cooldownUntil = clock.now() + this.opts.peerCooldownMs;
      return;
    }
    ps.misbehaved = true;
    ps.backed = false;
    this.modules.onCutOff(ps.peerId);
  }

  /**
   * The best peer for a range starting at `start`: one that claims it and
   * holds it (no snapshot start above `start`), is not resting, has room for another request; fewest requests first, then
   * the fastest. Peers in `excluded` failed this range already; they are
   * tried again only when nobody else has it.
   */
  pick(
    start: number,
    excluded: Set<string>,
    now: number,
    inflight: (peerId: string) => number,
    maxRequestsPerPeer: number,
  ): PeerState | null {
    const able = this.usable().filter(
      (ps) => ps.height !== null && ps.height >= start && ps.earliest <= start,
    );
    if (able.length === 0) return null;
    let fresh = able.filter((ps) => !excluded.has(ps.peerId));
    if (fresh.length === 0) {
      // Everyone who has it already failed it once: try again (after their cooldown).
      excluded.clear();
      fresh = able;
    }
    let best: PeerState | null = null;
    let bestLoad = 0;
    for (const ps of fresh) {
      const load = inflight(ps.peerId);
      if (load >= maxRequestsPerPeer || now < ps.cooldownUntil) continue;
      if (
        best === null ||
        load < bestLoad ||
        (load === bestLoad && ps.msPerBlock < best.msPerBlock)
      ) {
        best = ps;
        bestLoad = load;
      }
    }
    return best;
  }
}
