/**
 * The node's libp2p host: TCP + noise + yamux, identify, ping, gossipsub, the
 * status handshake, request/response, peer scoring and bans. Built by
 * `P2PHost.init` (nothing listens yet), started by `start`, closed by `close`.
 */
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import { noise } from '@chainsafe/libp2p-noise';
import type { GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import { type Connection, KEEP_ALIVE, type Libp2p, type PeerId } from '@libp2p/interface';
import { peerIdFromString } from '@libp2p/peer-id';
import { ping } from '@libp2p/ping';
import { prometheusMetrics } from '@libp2p/prometheus-metrics';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { type Multiaddr, multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { BlockImportedEvent, BlockImporter, Chain } from '../chain/index.ts';
import type { Mempool } from '../mempool/index.ts';
import type { Block, CommitCertificate, Transaction } from '../primitives/index.ts';
import type { Database } from '../storage/index.ts';
import { asError, bytesEqual, type Clock, systemClock, type Timer, toHex } from '../util/index.ts';
import { BanList, type BanRecord, parsePeerId } from './bans.ts';
import { PeerGate } from './gate.ts';
import { Gossip, gossipService } from './gossip.ts';
import {
  blockValidator,
  type ConsensusGossipHandler,
  consensusValidator,
  type TransactionDeferral,
  txValidator,
  type ValidatorDeps,
} from './gossip-validators.ts';
import { loadOrCreatePeerKey } from './identity.ts';
import { encodeBlockWithCommit, P2P_PROTOCOL_VERSION, type StatusMessage } from './messages.ts';
import { createP2PMetrics, type P2PMetrics } from './metrics.ts';
import { ReqResp } from './reqresp/engine.ts';
import type { ConsensusCatchupSource, PeerEvents, PeerInfo, PeerSource } from './reqresp/index.ts';
import { BAN_THRESHOLD, PeerScores } from './scoring.ts';
import { TOPIC_KINDS, type TopicKind, topicName } from './topics.ts';
import { TxBatcher } from './tx-batch.ts';

export interface P2POptions {
  /** Listen address; `0.0.0.0` for all interfaces. */
  readonly host: string;
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Multiaddrs with /p2p/<peer id>, dialled at start and kept connected. */
  readonly bootstrap: readonly string[];
  readonly maxConnections: number;
  /** Most inbound connections from one IP address. */
  readonly maxInboundPerIp: number;
  /** How long a peer whose score fell to the ban threshold stays banned. */
  readonly banDurationMs: number;
  /** Where the peer key lives (created 0600 on first start). */
  readonly identityPath: string;
  /** How often connected peers are asked for their status again. */
  readonly statusRefreshMs?: number;
  /** How often disconnected bootstrap peers are redialled. */
  readonly redialMs?: number;
  /** New peer identities one address may connect with per `identityWindowMs` (default 32 per 10 min). */
  readonly maxIdentitiesPerIp?: number;
  readonly identityWindowMs?: number;
  /**
   * Addresses (IPs or CIDRs) that address bans and the identity bound do not
   * apply to: by default loopback, where only this machine's own processes live.
   */
  readonly addressLimitExempt?: readonly string[];
  /** How long an admitted transaction waits for others to share its gossip message (default 20 ms). */
  readonly txBatchDelayMs?: number;
}

export interface P2PModules {
  readonly logger: Logger;
  readonly db: Database;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly importer: BlockImporter;
  /** The node's registry; null runs without metrics (tests). */
  readonly metricsRegistry: Registry | null;
  /** Time for refusals, bans, scores, quotas and the host's periodic tasks (default the system clock). */
  readonly clock?: Clock;
}

/** What the API's node-status route shows. */
export interface P2PStatus {
  readonly peers: number;
  readonly listenAddrs: string[];
  readonly peerId: string;
}

/** One connected peer, handshaken or not (for `peers list` and the admin API). */
export interface PeerSummary {
  readonly peerId: string;
  readonly remoteAddr: string;
  readonly direction: 'inbound' | 'outbound';
  readonly score: number;
  /** Null until the status handshake completed. */
  readonly status: {
    readonly tipHeight: number;
    readonly tipHash: string;
    readonly protocolVersion: number;
  } | null;
}

/** How long a peer of another chain or version is refused (it is not redialled either). */
const INCOMPATIBLE_REFUSAL_MS = 60 * 60_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export function identityPath(datadir: string): string {
  return join(datadir, 'keys', 'p2p-identity.key');
}

type Services = { identify: unknown; ping: unknown; pubsub: GossipSub };

export class P2PHost implements PeerSource {
  readonly events = new EventEmitter<PeerEvents>();
  readonly reqResp: ReqResp;
  private readonly opts: P2POptions;
  private readonly modules: P2PModules;
  private readonly libp2p: Libp2p<Services>;
  private readonly gossip: Gossip;
  private readonly bans: BanList;
  private readonly scores: PeerScores;
  private readonly clock: Clock;
  private readonly metrics: P2PMetrics | null;
  private readonly logger: Logger;
  private readonly chainId: string;
  private readonly bootstrap: Multiaddr[];
  /** Peers that passed the handshake. */
  private readonly handshaken = new Map<string, PeerInfo>();
  /** Peers whose status (sent to us or asked by us) matched ours: the only ones served. */
  private readonly verified = new Set<string>();
  /** The connection gater's policy (bans, refusals, address limits). */
  private readonly gate: PeerGate;
  private consensusHandler: ConsensusGossipHandler | null = null;
  private consensusCatchup: ConsensusCatchupSource | null = null;
  private txDeferral: TransactionDeferral | null = null;
  private state: 'ready' | 'started' | 'closing' | 'closed' = 'ready';
  /** The chain's earliest height, read at start (it changes only when a snapshot rebuilds the database). */
  private earliestHeight = 0;
  private readonly timers = new Set<Timer>();
  private readonly txBatcher: TxBatcher;
  private readonly onBlock = (event: BlockImportedEvent) => {
    if (event.source === 'producer') void this.publishBlock(event.block, event.commit);
  };

  private constructor(
    opts: P2POptions,
    modules: P2PModules & {
      libp2p: Libp2p<Services>;
      bans: BanList;
      metrics: P2PMetrics | null;
    },
  ) {
    this.opts = opts;
    this.modules = modules;
    this.libp2p = modules.libp2p;
    this.bans = modules.bans;
    this.metrics = modules.metrics;
    this.logger = modules.logger;
    this.clock = modules.clock ?? systemClock;
    this.scores = new PeerScores({ clock: this.clock });
    this.chainId = modules.chain.genesis.chainId;
    this.bootstrap = opts.bootstrap.map((a) => multiaddr(a));
    this.gate = new PeerGate(opts, {
      bans: this.bans,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      connections: () => this.libp2p.getConnections(),
    });
    this.gossip = new Gossip({ pubsub: this.libp2p.services.pubsub, logger: this.logger });
    this.txBatcher = new TxBatcher({
      clock: this.clock,
      ...(opts.txBatchDelayMs === undefined ? {} : { delayMs: opts.txBatchDelayMs }),
      publish: (batch) => void this.publish('tx', batch),
    });
    this.reqResp = new ReqResp({
      libp2p: this.libp2p,
      logger: this.logger,
      metrics: this.metrics,
      penalize: (peerId, penalty, reason) => this.reportPeer(peerId, penalty, reason),
      handshaken: (peerId) => this.verified.has(peerId),
      clock: this.clock,
      context: {
        chain: modules.chain,
        mempool: modules.mempool,
        localStatus: () => this.localStatus(),
        consensus: () => this.consensusCatchup,
        onRemoteStatus: (peerId, status) => {
          const reason = this.incompatibility(status);
          // A compatible status in the peer's own request is a handshake too:
          // it may ask for blocks as soon as it has our answer.
          if (reason === null) this.verified.add(peerId);
          // Answer first (so the peer learns why), then hang up.
          else this.clock.setTimeout(() => void this.refuse(peerId, reason), 200);
        },
      },
    });
  }

  static async init(opts: P2POptions, modules: P2PModules): Promise<P2PHost> {
    const logger = modules.logger;
    const { key, created } = await loadOrCreatePeerKey(opts.identityPath);
    if (created) logger.info({ path: opts.identityPath }, 'created p2p identity key');
    const bans = await BanList.init({ db: modules.db, clock: modules.clock ?? systemClock });
    const metrics =
      modules.metricsRegistry === null ? null : createP2PMetrics(modules.metricsRegistry);
    const chainId = modules.chain.genesis.chainId;
    // The gater needs the host (connections, handshake results), which needs libp2p.
    let host: P2PHost | null = null;
    const ip = opts.host.includes(':') ? 'ip6' : 'ip4';
    const libp2p = await createLibp2p<Services>({
      start: false,
      privateKey: key,
      addresses: { listen: [`/${ip}/${opts.host}/tcp/${opts.port}`] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      connectionManager: { maxConnections: opts.maxConnections },
      connectionGater: {
        denyDialPeer: (peerId) => host?.gate.refused(peerId.toString()) ?? false,
        denyInboundConnection: (maConn) =>
          (host?.gate.addressBanned(maConn.remoteAddr) ?? false) ||
          (host?.gate.tooManyFromIp(maConn) ?? false),
        denyInboundEncryptedConnection: (peerId, maConn) =>
          (host?.gate.refused(peerId.toString()) ?? false) ||
          (host?.gate.identityChurn(peerId.toString(), maConn) ?? false),
        denyOutboundEncryptedConnection: (peerId) => host?.gate.refused(peerId.toString()) ?? false,
      },
      services: {
        identify: identify(),
        ping: ping(),
        pubsub: gossipService({ allowedTopics: TOPIC_KINDS.map((k) => topicName(chainId, k)) }),
      },
      ...(modules.metricsRegistry === null
        ? {}
        : {
            metrics: prometheusMetrics({
              registry: modules.metricsRegistry,
              preserveExistingMetrics: true,
              collectDefaultMetrics: false,
            }),
          }),
    });
    host = new P2PHost(opts, { ...modules, libp2p, bans, metrics });
    return host;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  /** Listen addresses with /p2p/<peer id>. */
  get listenAddrs(): string[] {
    return this.libp2p.getMultiaddrs().map((a) => a.toString());
  }

  get status(): P2PStatus {
    return {
      peers: this.libp2p.getPeers().length,
      listenAddrs: this.listenAddrs,
      peerId: this.peerId,
    };
  }

  async start(): Promise<void> {
    if (this.state !== 'ready') return;
    this.state = 'started';
    this.earliestHeight = await this.modules.chain.earliestHeight();
    this.libp2p.addEventListener('peer:connect', (event) => {
      this.updatePeerGauge();
      void this.handshake(event.detail);
    });
    this.libp2p.addEventListener('peer:disconnect', (event) => {
      this.updatePeerGauge();
      const peerId = event.detail.toString();
      // Request quotas are kept (they expire on their own): a redial must not refill them.
      this.verified.delete(peerId);
      if (this.handshaken.delete(peerId)) {
        this.logger.info({ peer: peerId }, 'peer disconnected');
        this.events.emit('peer:disconnected', { peerId });
      }
    });
    await this.libp2p.start();
    await this.reqResp.start();
    const deps: ValidatorDeps = {
      chain: this.modules.chain,
      mempool: this.modules.mempool,
      importer: this.modules.importer,
      logger: this.logger,
      metrics: this.metrics,
      penalize: (peerId, penalty, reason) => this.reportPeer(peerId, penalty, reason),
      onBlockAhead: (peerId, height) => this.events.emit('block:ahead', { peerId, height }),
      consensusHandler: () => this.consensusHandler,
      txDeferral: () => this.txDeferral,
    };
    this.gossip.subscribe(this.topic('tx'), txValidator(deps));
    this.gossip.subscribe(this.topic('block'), blockValidator(deps));
    for (const kind of ['proposal', 'vote', 'evidence'] as const)
      this.gossip.subscribe(this.topic(kind), consensusValidator(kind, deps));
    this.modules.importer.events.on('block', this.onBlock);
    this.logger.info(
      { peerId: this.peerId, listenAddrs: this.listenAddrs, chainId: this.chainId },
      'p2p listening',
    );
    await this.dialBootstrap(true);
    this.every(this.opts.redialMs ?? 5_000, () => this.dialBootstrap(false));
    this.every(this.opts.statusRefreshMs ?? 15_000, () => this.refreshStatuses());
    this.every(60_000, async () => this.scores.prune());
  }

  async close(): Promise<void> {
    if (this.state === 'closing' || this.state === 'closed') return;
    const wasStarted = this.state === 'started';
    this.state = 'closing';
    this.txBatcher.clear();
    for (const timer of this.timers) this.clock.clearTimeout(timer);
    this.timers.clear();
    this.modules.importer.events.off('block', this.onBlock);
    if (wasStarted) {
      this.gossip.unsubscribeAll();
      await this.reqResp.stop();
    }
    await this.libp2p.stop();
    this.state = 'closed';
  }

  // ---- PeerSource ----

  connectedPeers(): PeerInfo[] {
    return [...this.handshaken.values()]
      .map((info) => ({ ...info, score: this.scores.score(info.peerId) }))
      .sort((a, b) => b.status.tipHeight - a.status.tipHeight);
  }

  reportPeer(peerId: string, penalty: number, reason: string): void {
    if (!(penalty > 0) || this.state !== 'started') return;
    this.metrics?.peerPenalties.inc({ reason: reason.split(':')[0]!.slice(0, 48) });
    this.logger.debug({ peer: peerId, penalty, reason }, 'peer penalised');
    if (this.scores.penalize(peerId, penalty) && !this.bans.isBanned(peerId)) {
      void this.ban(
        peerId,
        this.opts.banDurationMs,
        `score below ${BAN_THRESHOLD}: ${reason}`,
      ).catch((error: unknown) => this.logger.error({ err: asError(error) }, 'could not ban peer'));
    }
  }

  // ---- gossip ----

  /**
   * Relays a transaction this node admitted (from the API, or an orphan it
   * resolved) in the next transaction batch message (tx-batch.ts).
   */
  broadcastTransaction(tx: Transaction): void {
    this.txBatcher.add(tx.encode());
  }

  /** Relays a block this node produced, with the certificate that made it final. */
  async publishBlock(block: Block, commit: CommitCertificate): Promise<void> {
    await this.publish('block', encodeBlockWithCommit({ block, commit }));
  }

  /** Publishes an encoded proposal, vote or evidence message (consensus-messages.ts). */
  async publishConsensus(kind: 'proposal' | 'vote' | 'evidence', data: Uint8Array): Promise<void> {
    await this.publish(kind, data);
  }

  /** Sync registers here to hold gossiped transactions while it catches up. */
  setTransactionDeferral(deferral: TransactionDeferral | null): void {
    this.txDeferral = deferral;
  }

  /**
   * Installs the BFT engine: its handler for gossiped consensus messages and
   * the source the consensus catch-up protocols answer from.
   */
  setConsensus(
    handler: ConsensusGossipHandler | null,
    catchup: ConsensusCatchupSource | null = null,
  ): void {
    this.consensusHandler = handler;
    this.consensusCatchup = catchup;
  }

  /** A consensus message of a later height came from `peerId`: block sync should look. */
  hintAhead(peerId: string, height: number): void {
    this.events.emit('block:ahead', { peerId, height });
  }

  /** Peers that passed the status handshake (same chain, genesis, version). */
  get handshakenPeerIds(): string[] {
    return [...this.handshaken.keys()];
  }

  private async publish(kind: TopicKind, data: Uint8Array): Promise<void> {
    if (this.state !== 'started') return;
    try {
      await this.gossip.publish(this.topic(kind), data);
      this.metrics?.gossipPublished.inc({ topic: kind });
    } catch (error) {
      this.logger.warn({ err: asError(error), topic: kind }, 'gossip publish failed');
    }
  }

  private topic(kind: TopicKind): string {
    return topicName(this.chainId, kind);
  }

  // ---- peers, bans ----

  listPeers(): PeerSummary[] {
    return this.libp2p.getConnections().map((connection) => {
      const peerId = connection.remotePeer.toString();
      const info = this.handshaken.get(peerId);
      return {
        peerId,
        remoteAddr: connection.remoteAddr.toString(),
        direction: connection.direction,
        score: this.scores.score(peerId),
        status:
          info === undefined
            ? null
            : {
                tipHeight: info.status.tipHeight,
                tipHash: toHex(info.status.tipHash),
                protocolVersion: info.status.protocolVersion,
              },
      };
    });
  }

  listBans(): Promise<BanRecord[]> {
    return this.bans.list();
  }

  /** Bans a peer (persisted) and disconnects it. */
  async ban(
    peerId: string,
    durationMs = this.opts.banDurationMs,
    reason = 'operator',
  ): Promise<BanRecord> {
    const id = parsePeerId(peerId);
    const record = await this.bans.ban(id, durationMs, reason);
    // The address goes with the identity: a fresh key from the same host is refused too.
    this.gate.banAddresses(
      id,
      this.libp2p.getConnections(peerIdFromString(id)).map((c) => c.remoteAddr),
      record.expiresAt,
    );
    this.metrics?.bans.inc({ reason: reason === 'operator' ? 'operator' : 'score' });
    this.logger.warn(
      { peer: id, until: new Date(record.expiresAt).toISOString(), reason },
      'peer banned',
    );
    await this.hangUp(id);
    return record;
  }

  async unban(peerId: string): Promise<boolean> {
    const id = parsePeerId(peerId);
    this.scores.forget(id);
    this.gate.forgive(id);
    const removed = await this.bans.unban(id);
    if (removed) this.logger.info({ peer: id }, 'peer unbanned');
    return removed;
  }

  // ---- handshake ----

  localStatus(): StatusMessage {
    const { chain } = this.modules;
    return {
      protocolVersion: P2P_PROTOCOL_VERSION,
      chainId: this.chainId,
      genesisHash: chain.genesisHash,
      tipHeight: chain.tipHeight,
      tipHash: chain.tip.hash,
      earliestHeight: this.earliestHeight,
    };
  }

  private incompatibility(status: StatusMessage): string | null {
    if (status.protocolVersion !== P2P_PROTOCOL_VERSION)
      return `protocol version ${status.protocolVersion}, we speak ${P2P_PROTOCOL_VERSION}`;
    if (status.chainId !== this.chainId)
      return `chain id ${JSON.stringify(status.chainId)}, ours is ${JSON.stringify(this.chainId)}`;
    if (!bytesEqual(status.genesisHash, this.modules.chain.genesisHash))
      return `genesis ${toHex(status.genesisHash)}, ours is ${toHex(this.modules.chain.genesisHash)}`;
    return null;
  }

  private async handshake(peer: PeerId, refresh = false): Promise<void> {
    const peerId = peer.toString();
    if (this.state !== 'started') return;
    let status: StatusMessage;
    try {
      status = await this.reqResp.getStatus(peerId, { timeoutMs: HANDSHAKE_TIMEOUT_MS });
    } catch (error) {
      if (this.libp2p.getConnections(peer).length === 0) return;
      if (refresh) {
        // A busy peer may miss one refresh; it keeps its last status.
        this.logger.debug({ peer: peerId, err: String(error) }, 'status refresh failed');
        return;
      }
      this.metrics?.handshakes.inc({ outcome: 'failed' });
      this.logger.info(
        { peer: peerId, err: String(error) },
        'status handshake failed; disconnecting',
      );
      await this.hangUp(peerId);
      return;
    }
    const reason = this.incompatibility(status);
    if (reason !== null) {
      await this.refuse(peerId, reason);
      return;
    }
    this.metrics?.handshakes.inc({ outcome: 'ok' });
    this.verified.add(peerId);
    const connection = this.libp2p.getConnections(peer)[0];
    if (connection === undefined) return;
    const first = !this.handshaken.has(peerId);
    const info = this.peerInfo(peerId, status, connection);
    this.handshaken.set(peerId, info);
    if (first) {
      this.logger.info(
        {
          peer: peerId,
          addr: info.remoteAddr,
          direction: info.direction,
          tipHeight: status.tipHeight,
        },
        'peer connected',
      );
    }
    this.events.emit('peer:status', info);
  }

  private peerInfo(peerId: string, status: StatusMessage, connection: Connection): PeerInfo {
    return {
      peerId,
      status,
      direction: connection.direction,
      remoteAddr: connection.remoteAddr.toString(),
      score: this.scores.score(peerId),
    };
  }

  /** Disconnects a peer of another chain or version, and refuses it for a while. */
  private async refuse(peerId: string, reason: string): Promise<void> {
    // Counted here, not in one caller: the peer's own status request and our
    // outbound handshake race, and either may be the one that finds it out.
    if (this.gate.refuseIncompatible(peerId, INCOMPATIBLE_REFUSAL_MS)) {
      this.metrics?.handshakes.inc({ outcome: 'incompatible' });
      this.logger.warn({ peer: peerId, reason }, 'incompatible peer refused');
    }
    try {
      await this.libp2p.peerStore.merge(peerIdFromString(peerId), {
        tags: { [KEEP_ALIVE]: undefined },
      });
    } catch {
      // not in the peer store: nothing to untag
    }
    await this.hangUp(peerId);
  }

  private async hangUp(peerId: string): Promise<void> {
    this.handshaken.delete(peerId);
    this.verified.delete(peerId);
    try {
      await this.libp2p.hangUp(peerIdFromString(peerId));
    } catch (error) {
      this.logger.debug({ peer: peerId, err: String(error) }, 'hang up failed');
    }
  }

  private async refreshStatuses(): Promise<void> {
    await Promise.all(
      [...this.handshaken.keys()].map((peerId) => this.handshake(peerIdFromString(peerId), true)),
    );
  }

  // ---- bootstrap ----

  private async dialBootstrap(first: boolean): Promise<void> {
    if (this.state !== 'started') return;
    await Promise.all(
      this.bootstrap.map(async (addr) => {
        const peerIdText = addr.getComponents().find((c) => c.name === 'p2p')?.value;
        if (peerIdText === undefined || peerIdText === this.peerId) return;
        if (this.gate.refused(peerIdText)) return;
        const peer = peerIdFromString(peerIdText);
        if (this.libp2p.getConnections(peer).length > 0) return;
        try {
          if (first) {
            await this.libp2p.peerStore.merge(peer, {
              multiaddrs: [
                addr.decapsulateCode(addr.getComponents().find((c) => c.name === 'p2p')!.code),
              ],
              tags: { [KEEP_ALIVE]: { value: 100 } },
            });
          }
          await this.libp2p.dial(addr, { signal: AbortSignal.timeout(10_000) });
        } catch (error) {
          this.logger.debug({ addr: addr.toString(), err: String(error) }, 'bootstrap dial failed');
        }
      }),
    );
  }

  /** Runs `task` every `ms` while started (the next run is scheduled when one is due, not when it ends). */
  private every(ms: number, task: () => Promise<void>): void {
    const schedule = () => {
      const timer = this.clock.setTimeout(() => {
        this.timers.delete(timer);
        if (this.state !== 'started') return;
        schedule();
        task().catch((error: unknown) =>
          this.logger.warn({ err: asError(error) }, 'p2p task failed'),
        );
      }, ms);
      this.timers.add(timer);
    };
    schedule();
  }

  private updatePeerGauge(): void {
    this.metrics?.peersConnected.set(this.libp2p.getPeers().length);
  }
}
