/**
 * The connection gater's policy: who is refused before a connection is up.
 * Banned peers (the persisted ban list) and peers of another chain or
 * version (for a while); addresses banned with a misbehaving peer, so a new
 * identity from the same host does not help; at most `maxInboundPerIp`
 * inbound connections and `maxIdentitiesPerIp` new identities per window
 * from one address. The address limits skip `addressLimitExempt` (loopback
 * by default, where only this machine's own processes live).
 */
import { BlockList } from 'node:net';
import type { Connection, MultiaddrConnection } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
import type { Logger } from 'pino';
import type { Clock } from '../util/index.ts';
import type { BanList } from './bans.ts';
import type { P2PMetrics } from './metrics.ts';

export interface PeerGateOptions {
  readonly maxInboundPerIp: number;
  readonly maxIdentitiesPerIp?: number;
  readonly identityWindowMs?: number;
  readonly addressLimitExempt?: readonly string[];
}

export interface PeerGateModules {
  readonly bans: BanList;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics: P2PMetrics | null;
  /** The host's open connections (for the per-address inbound bound). */
  readonly connections: () => Connection[];
}

export class PeerGate {
  private readonly opts: PeerGateOptions;
  private readonly bans: BanList;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly metrics: P2PMetrics | null;
  private readonly connections: () => Connection[];
  /** Peers of another chain or version: peer id -> refused until. */
  private readonly incompatible = new Map<string, number>();
  /** Banned addresses (IP -> until, ms), set with a misbehaving peer's ban: a new identity does not help. */
  private readonly addressBans = new Map<string, { until: number; peerId: string }>();
  /** Per IP: peer ids first seen from it (-> when), to bound identity churn. */
  private readonly identitiesByIp = new Map<string, Map<string, number>>();
  private readonly exempt: BlockList;

  constructor(opts: PeerGateOptions, modules: PeerGateModules) {
    this.opts = opts;
    this.bans = modules.bans;
    this.clock = modules.clock;
    this.logger = modules.logger;
    this.metrics = modules.metrics;
    this.connections = modules.connections;
    this.exempt = blockListOf(opts.addressLimitExempt ?? ['127.0.0.0/8', '::1/128']);
  }

  /** Refuses `peerId` (another chain or version) for `ms`; false when it was refused already. */
  refuseIncompatible(peerId: string, ms: number): boolean {
    const fresh = !this.incompatible.has(peerId);
    this.incompatible.set(peerId, this.clock.now() + ms);
    return fresh;
  }

  /** The addresses `peerId` is connected from are banned until `until` (exempt ones aside). */
  banAddresses(peerId: string, addrs: readonly Multiaddr[], until: number): void {
    for (const addr of addrs) {
      const ip = ipOf(addr);
      if (ip !== null && !this.isExempt(ip)) this.addressBans.set(ip, { until, peerId });
    }
  }

  /** Lifts what `peerId` was refused for (operator unban). */
  forgive(peerId: string): void {
    this.incompatible.delete(peerId);
    for (const [ip, ban] of this.addressBans)
      if (ban.peerId === peerId) this.addressBans.delete(ip);
  }

  refused(peerId: string): boolean {
    if (this.bans.isBanned(peerId)) return true;
    const until = this.incompatible.get(peerId);
    if (until === undefined) return false;
    if (until > this.clock.now()) return true;
    this.incompatible.delete(peerId);
    return false;
  }

  private isExempt(ip: string): boolean {
    return this.exempt.check(ip, ip.includes(':') ? 'ipv6' : 'ipv4');
  }

  addressBanned(addr: Multiaddr): boolean {
    const ip = ipOf(addr);
    if (ip === null) return false;
    const ban = this.addressBans.get(ip);
    if (ban === undefined) return false;
    if (ban.until > this.clock.now()) {
      this.logger.debug({ ip }, 'inbound connection refused: address banned');
      return true;
    }
    this.addressBans.delete(ip);
    return false;
  }

  /** True when `peerId` is one new identity too many for its address in the window. */
  identityChurn(peerId: string, maConn: MultiaddrConnection): boolean {
    const ip = ipOf(maConn.remoteAddr);
    if (ip === null || this.isExempt(ip)) return false;
    const now = this.clock.now();
    const windowMs = this.opts.identityWindowMs ?? 10 * 60_000;
    let seen = this.identitiesByIp.get(ip);
    if (seen === undefined) {
      if (this.identitiesByIp.size >= 10_000) {
        for (const [key, ids] of this.identitiesByIp) {
          for (const [id, at] of ids) if (now - at > windowMs) ids.delete(id);
          if (ids.size === 0) this.identitiesByIp.delete(key);
        }
      }
      seen = new Map();
      this.identitiesByIp.set(ip, seen);
    }
    for (const [id, at] of seen) if (now - at > windowMs) seen.delete(id);
    if (seen.has(peerId)) return false;
    if (seen.size >= (this.opts.maxIdentitiesPerIp ?? 32)) {
      this.metrics?.handshakes.inc({ outcome: 'identity-churn' });
      this.logger.debug(
        { ip, peer: peerId },
        'inbound peer refused: too many identities from its address',
      );
      return true;
    }
    seen.set(peerId, now);
    return false;
  }

  tooManyFromIp(maConn: MultiaddrConnection): boolean {
    const ip = ipOf(maConn.remoteAddr);
    if (ip === null) return false;
    let inbound = 0;
    for (const connection of this.connections()) {
      if (connection.direction === 'inbound' && ipOf(connection.remoteAddr) === ip) inbound++;
    }
    if (inbound >= this.opts.maxInboundPerIp) {
      this.logger.debug({ ip, inbound }, 'inbound connection refused: per-IP limit');
      return true;
    }
    return false;
  }
}

function blockListOf(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of cidrs) {
    const [address = '', prefix] = entry.split('/');
    const type = address.includes(':') ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, type);
    else list.addSubnet(address, Number(prefix), type);
  }
  return list;
}

function ipOf(addr: Multiaddr): string | null {
  for (const c of addr.getComponents()) {
    if ((c.name === 'ip4' || c.name === 'ip6') && c.value !== undefined) return c.value;
  }
  return null;
}
