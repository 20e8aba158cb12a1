import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type AuthStack, openAuthStack } from '../api/auth/index.ts';
import {
  ApiServer,
  type ConsensusQueries,
  MetricsServer,
  removeCookie,
  writeCookie,
} from '../api/index.ts';
import type { Genesis } from '../chain/index.ts';
import { BlockImporter, Chain } from '../chain/index.ts';
import type { NodeConfig } from '../config/index.ts';
import { BftEngine } from '../consensus/bft/index.ts';
import type { ConsensusEngine } from '../consensus/engine.ts';
import { SignatureChecker, StakingQueriesFromState } from '../consensus/index.ts';
import { ValidatorSigner } from '../consensus/validator-signer.ts';
import {
  bestVerifier,
  CoalescingVerifier,
  ParallelVerifier,
  SignatureCache,
} from '../crypto/node.ts';
import { Mempool } from '../mempool/index.ts';
import {
  createChainMetrics,
  createConsensusMetrics,
  createMetricsRegistry,
  registerStateMetrics,
} from '../metrics/index.ts';
import { identityPath, P2PHost } from '../p2p/index.ts';
import { BlockSyncer, createSyncMetrics, PacedClient } from '../p2p/sync/index.ts';
import {
  registerStateSyncMetrics,
  type SnapshotStore,
  StateSync,
  type StateSyncStatus,
  type TrustAnchor,
} from '../snapshot/index.ts';
import { Database } from '../storage/index.ts';
import { toHex } from '../util/index.ts';
import { BlockProducer } from './block-producer.ts';
import { applyClockOffset } from './clock-offset.ts';
import { CloseStack } from './close-stack.ts';
import { type DataPaths, dataPaths, loadGenesis, loadValidatorKey } from './datadir.ts';
import {
  installStateSyncedChain,
  nodeBackup,
  openSnapshots,
  p2pSnapshotPeers,
  stateSyncTarget,
} from './snapshots.ts';
import { watchOwnValidator } from './validator-metrics.ts';

const MB = 1024 * 1024;
const MEMPOOL_EXPIRY_CHECK_MS = 60_000;
/** Behind the best peer by more than this many blocks: the node reports itself syncing (not ready). */
const SYNC_READY_LAG_BLOCKS = 10;

interface NodeModules {
  readonly auth: AuthStack;
  readonly config: NodeConfig;
  readonly paths: DataPaths;
  readonly logger: Logger;
  readonly closers: CloseStack;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly importer: BlockImporter;
  readonly metricsRegistry: Registry;
  readonly engine: ConsensusEngine | null;
  readonly api: ApiServer;
  readonly metricsServer: MetricsServer;
  readonly p2p: P2PHost;
  readonly syncer: BlockSyncer;
  readonly snapshots: SnapshotStore;
  readonly verifier: ParallelVerifier;
  readonly stateSync: StateSyncState;
}

/** The state sync this process ran or is running: read by the API, the metrics and the logs. */
interface StateSyncState {
  status: StateSyncStatus | null;
  /** The chain is the genesis-only placeholder that the snapshot will replace. */
  running: boolean;
}

export interface NodeInitOptions {
  /** False: no consensus engine even with a validator key (the state-sync pass). */
  readonly consensus?: boolean;
  /** A state sync this process finished before this init: node status keeps reporting it. */
  readonly stateSync?: StateSyncStatus | null;
}

export interface StateSyncRequest {
  readonly trusted: TrustAnchor | null;
  /** A snapshot is taken only when this many peers offer it. */
  readonly minPeers: number;
  readonly discoverTimeoutMs: number;
  /** Called on every progress step (the CLI draws a bar on a TTY). */
  readonly onProgress?: (status: StateSyncStatus) => void;
}

/**
 * One utxod process: every subsystem built in dependency order by `init`,
 * started by `start`, and closed in reverse order by `close`.
 */
export class UtxoNode {
  readonly config: NodeConfig;
  readonly paths: DataPaths;
  readonly logger: Logger;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly importer: BlockImporter;
  readonly metricsRegistry: Registry;
  readonly api: ApiServer;
  readonly metricsServer: MetricsServer;
  /** libp2p host: gossip, request/response, peers and bans. */
  readonly p2p: P2PHost;
  /** Block sync (catch-up from peers); `syncer.status()` is the SyncStatus. */
  readonly syncer: BlockSyncer;
  /** API auth service and audit log (tests mint tokens with auth.service.issueAccessToken). */
  readonly auth: AuthStack;
  /** Snapshots this node wrote and serves to peers. */
  readonly snapshots: SnapshotStore;
  private readonly verifier: ParallelVerifier;
  private readonly stateSyncState: StateSyncState;
  /** What init opened; close() unwinds it. */
  private readonly closers: CloseStack;
  private readonly engine: ConsensusEngine | null;
  private status: 'ready' | 'started' | 'closing' | 'closed' = 'ready';
  private rpcAddress: string | null = null;
  private metricsAddress: string | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;

  private constructor(modules: NodeModules) {
    this.config = modules.config;
    this.paths = modules.paths;
    this.logger = modules.logger;
    this.closers = modules.closers;
    this.chain = modules.chain;
    this.mempool = modules.mempool;
    this.importer = modules.importer;
    this.metricsRegistry = modules.metricsRegistry;
    this.engine = modules.engine;
    this.api = modules.api;
    this.metricsServer = modules.metricsServer;
    this.p2p = modules.p2p;
    this.auth = modules.auth;
    this.syncer = modules.syncer;
    this.snapshots = modules.snapshots;
    this.verifier = modules.verifier;
    this.stateSyncState = modules.stateSync;
    registerStateSyncMetrics(this.metricsRegistry, () => this.stateSyncState.status);
  }

  /**
   * Builds the node as a list of named steps, each using what the ones before
   * it built. Every step that opens something registers its close on one
   * stack: `close()` and a failed `init` both unwind that same stack.
   */
  static async init(
    config: NodeConfig,
    modules: { logger: Logger },
    options: NodeInitOptions = {},
  ): Promise<UtxoNode> {
    const { logger } = modules;
    applyClockOffset(config.clockOffsetMs, logger);
    const paths = dataPaths(config.datadir);
    const genesis = loadGenesis(paths);
    const closers = new CloseStack();
    const stateSync: StateSyncState = { status: options.stateSync ?? null, running: false };
    try {
      const storage = await openStorage(config, paths, closers);
      const core = await openCore(config, { logger, paths, genesis, ...storage }, closers);
      const p2p = await openP2P(config, { logger, paths, ...storage, ...core }, closers);
      const syncer = openSync({ logger, ...storage, ...core, p2p }, closers);
      const snapshots = openSnapshots(config, { logger, paths, ...storage, ...core, p2p }, closers);
      const engine =
        options.consensus === false
          ? null
          : openConsensus(config, { logger, paths, ...storage, ...core, p2p }, closers);
      const api = await openApi(
        config,
        { logger, paths, ...storage, ...core, p2p, syncer, engine, stateSync },
        closers,
      );
      logger.info(
        {
          datadir: paths.root,
          chainId: genesis.chainId,
          genesis: toHex(core.chain.genesisHash),
          height: core.chain.tipHeight,
          tip: toHex(core.chain.tip.hash),
          validator: engine !== null,
        },
        'node initialised',
      );
      return new UtxoNode({
        config,
        paths,
        logger,
        closers,
        ...core,
        engine,
        ...api,
        p2p,
        syncer,
        snapshots,
        verifier: storage.verifier,
        stateSync,
      });
    } catch (error) {
      await closers.closeAll(logger.child({ phase: 'cleanup after failed init' }));
      throw error;
    }
  }

  /** The address the API listens on, once started. */
  get rpcUrl(): string | null {
    return this.rpcAddress;
  }

  /** The address /metrics is served on, once started. */
  get metricsUrl(): string | null {
    return this.metricsAddress;
  }

  async start(): Promise<void> {
    if (this.status !== 'ready') return;
    this.status = 'started';
    await this.listenServers();
    await this.p2p.start();
    this.syncer.start();
    this.engine?.start();
    this.expiryTimer = setInterval(() => {
      const expired = this.mempool.expire();
      if (expired > 0) this.logger.info({ expired }, 'expired mempool transactions');
    }, MEMPOOL_EXPIRY_CHECK_MS);
    this.expiryTimer.unref();
  }

  private async listenServers(): Promise<void> {
    this.rpcAddress = await this.api.listen();
    this.logger.info({ url: this.rpcAddress }, 'api listening');
    writeCookie(this.paths.root, { url: this.rpcAddress });
    this.metricsAddress = await this.metricsServer.listen();
    this.logger.info({ url: this.metricsAddress }, 'metrics listening');
  }

  /** Progress of a running or finished state sync; null when none ran. */
  get stateSync(): StateSyncStatus | null {
    return this.stateSyncState.status;
  }

  /**
   * State sync on a node whose chain holds only genesis: with p2p, the API
   * and /metrics running (no block sync, no consensus), fetch and verify the
   * newest snapshot enough peers offer, and build it next to the chain
   * database. The API answers node status and health (alive, not ready)
   * and refuses chain routes with 503 STATE_SYNC_IN_PROGRESS meanwhile. The
   * caller closes this node; the next init puts the new chain in place
   * (installStateSyncedChain) and block sync takes over from there.
   */
  async runStateSync(request: StateSyncRequest, signal?: AbortSignal): Promise<number> {
    if (this.status !== 'ready') throw new Error(`state sync on a node already ${this.status}`);
    if (this.chain.tipHeight !== 0)
      throw new Error(`state sync needs an empty chain; this one is at ${this.chain.tipHeight}`);
    this.status = 'started';
    // Before anything listens: no request may ever see the placeholder chain as real.
    this.stateSyncState.running = true;
    await this.listenServers();
    await this.p2p.start();
    const sync = new StateSync(
      {
        chainDir: stateSyncTarget(this.paths.chainDb),
        minPeers: request.minPeers,
        concurrency: 4,
        chunkTimeoutMs: 30_000,
        chunkRounds: 3,
        discoverTimeoutMs: request.discoverTimeoutMs,
        trusted: request.trusted,
      },
      {
        peers: p2pSnapshotPeers(this.p2p),
        chainIdHash: this.chain.chainIdHash,
        genesisHash: this.chain.genesisHash,
        genesisValidators: this.chain.validators,
        verifier: this.verifier,
        logger: this.logger.child({ module: 'state-sync' }),
        onProgress: (status) => {
          this.stateSyncState.status = status;
          this.logger.info({ ...status }, 'state sync progress');
          request.onProgress?.(status);
        },
      },
    );
    this.stateSyncState.status = sync.status();
    const manifest = await sync.run(signal);
    return manifest.height;
  }

  /**
   * Closes everything `init` opened in reverse order (API first, so no new
   * work arrives; block production finishes the block being committed; the
   * mempool is saved; the database last). One failing close is logged and
   * does not skip the rest.
   */
  async close(): Promise<void> {
    if (this.status === 'closing' || this.status === 'closed') return;
    this.status = 'closing';
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    // The cookie names a running API: it goes before anything else closes.
    removeCookie(this.paths.root);
    await this.closers.closeAll(this.logger);
    this.status = 'closed';
    this.logger.info({ height: this.chain.tipHeight }, 'node closed');
  }
}

// The steps of UtxoNode.init, in order. Each takes what the earlier ones built
// and registers on `closers` whatever it opened.

/** The database and the signature verification pool. */
async function openStorage(config: NodeConfig, paths: DataPaths, closers: CloseStack) {
  await installStateSyncedChain(paths.chainDb);
  const db = await Database.open({ path: paths.chainDb, syncWrites: config.syncWrites });
  closers.push('database', () => db.close());
  const verifier = await ParallelVerifier.init({ workers: config.verifyWorkers });
  closers.push('verifier', () => verifier.close());
  const signatureCache =
    config.signatureCacheEntries > 0
      ? new SignatureCache({ maxEntries: config.signatureCacheEntries })
      : null;
  const signatures = new SignatureChecker({ verifier, cache: signatureCache });
  // Same cache as the chain's; admissions arriving together verify as one batch.
  const mempoolSignatures = new SignatureChecker({
    verifier: new CoalescingVerifier({}, { pool: verifier }),
    cache: signatureCache,
  });
  return { db, signatures, signatureCache, mempoolSignatures, verifier };
}

/** Chain, mempool (restored from its file), metrics registry, auth and the block importer. */
async function openCore(
  config: NodeConfig,
  modules: {
    logger: Logger;
    paths: DataPaths;
    genesis: Genesis;
    db: Database;
    signatures: SignatureChecker;
    signatureCache: SignatureCache | null;
    mempoolSignatures: SignatureChecker;
  },
  closers: CloseStack,
) {
  const { logger, paths, db, signatures, mempoolSignatures } = modules;
  const chain = await Chain.init(
    { utxoCacheBytes: config.utxoCacheMb * MB },
    { db, genesis: modules.genesis, signatures, logger: logger.child({ module: 'chain' }) },
  );
  // The contract engine's isolate: released after everything that may run a contract.
  closers.push('contracts', async () => chain.contracts.dispose());
  const mempool = new Mempool(
    { maxBytes: config.mempoolMaxMb * MB, minRelayFeeRate: config.minRelayFeeRate },
    { params: chain.params, chainIdHash: chain.chainIdHash, chain, signatures: mempoolSignatures },
  );
  const metricsRegistry = createMetricsRegistry();
  const auth = await openAuthStack(config, {
    db,
    logger: logger.child({ module: 'auth' }),
    metricsRegistry,
  });
  closers.push('auth', () => auth.close());
  registerStateMetrics(metricsRegistry, {
    mempool,
    utxoCache: chain.utxos.cache,
    signatureCache: modules.signatureCache,
  });
  const importer = new BlockImporter({
    chain,
    mempool,
    metrics: createChainMetrics(metricsRegistry),
    logger: logger.child({ module: 'import' }),
  });
  const loaded = await mempool.loadFrom(paths.mempool);
  if (loaded.found)
    logger.info({ accepted: loaded.accepted, skipped: loaded.skipped }, 'restored mempool');
  // Closed after everything that can still add transactions (p2p, sync, consensus, api).
  closers.push('mempool', () => mempool.saveTo(paths.mempool));
  return { chain, mempool, metricsRegistry, auth, importer, signatures };
}

/** The libp2p host, and the relay of locally submitted transactions. */
async function openP2P(
  config: NodeConfig,
  modules: {
    logger: Logger;
    paths: DataPaths;
    db: Database;
    chain: Chain;
    mempool: Mempool;
    importer: BlockImporter;
    metricsRegistry: Registry;
  },
  closers: CloseStack,
): Promise<P2PHost> {
  const { logger, db, chain, mempool, importer, metricsRegistry } = modules;
  const p2p = await P2PHost.init(
    {
      host: config.p2pHost,
      port: config.p2pPort,
      bootstrap: config.bootstrap,
      maxConnections: config.maxConnections,
      maxInboundPerIp: config.maxInboundPerIp,
      banDurationMs: config.banDurationMs,
      identityPath: identityPath(modules.paths.root),
    },
    { logger: logger.child({ module: 'p2p' }), db, chain, mempool, importer, metricsRegistry },
  );
  closers.push('p2p', () => p2p.close());
  // Relay what this node's users submit and orphans that just became valid;
  // transactions from peers are already being relayed by gossipsub itself.
  mempool.events.on('accepted', ({ tx, origin }) => {
    if (origin !== 'peer') p2p.broadcastTransaction(tx);
  });
  return p2p;
}

/** Block sync from peers (it also holds back gossiped transactions while catching up). */
function openSync(
  modules: {
    logger: Logger;
    chain: Chain;
    importer: BlockImporter;
    signatures: SignatureChecker;
    mempool: Mempool;
    metricsRegistry: Registry;
    p2p: P2PHost;
  },
  closers: CloseStack,
): BlockSyncer {
  const { chain, importer, signatures, mempool, p2p } = modules;
  const logger = modules.logger.child({ module: 'sync' });
  const syncer: BlockSyncer = new BlockSyncer(
    {},
    {
      chain,
      importer,
      peers: p2p,
      client: new PacedClient({}, { client: p2p.reqResp, logger }),
      signatures,
      mempool,
      logger,
      metrics: createSyncMetrics(modules.metricsRegistry, () => syncer.status()),
    },
  );
  closers.push('sync', () => syncer.stop());
  // Transactions gossiped while catching up wait in the syncer, not the orphan pool.
  p2p.setTransactionDeferral(syncer);
  return syncer;
}

/**
 * The BFT engine, when this node holds a validator key; otherwise null (the
 * node follows the chain by block gossip and block sync). One
 * validator or many, it is the same engine: alone, it commits each block with
 * its own votes, one per block interval.
 */
function openConsensus(
  config: NodeConfig,
  modules: {
    logger: Logger;
    paths: DataPaths;
    chain: Chain;
    mempool: Mempool;
    importer: BlockImporter;
    signatureCache: SignatureCache | null;
    p2p: P2PHost;
    metricsRegistry: Registry;
  },
  closers: CloseStack,
): ConsensusEngine | null {
  const { logger, paths, chain, mempool, importer, p2p } = modules;
  const validatorKey = loadValidatorKey(paths);
  // A key outside today's set still runs the engine: it follows consensus and
  // signs from the height at which staking puts it into the set.
  if (validatorKey === null) return null;
  const signer = new ValidatorSigner(
    { statePath: paths.signerState, chainIdHash: chain.chainIdHash },
    { key: validatorKey },
  );
  // A signer ahead of the chain (after `utxod rollback`) explains itself once,
  // at its first refusal (ValidatorSigner.takeRefusalNotice).
  const producer = new BlockProducer(
    { emptyBlocks: config.emptyBlocks, validatorKey: validatorKey.publicKey },
    { chain, mempool, importer },
  );
  const engine = new BftEngine(
    { walPath: paths.consensusWal, blockIntervalMs: config.blockIntervalMs },
    {
      host: producer,
      chain,
      signer,
      transport: {
        broadcastProposal: (bytes) => void p2p.publishConsensus('proposal', bytes),
        broadcastVote: (bytes) => void p2p.publishConsensus('vote', bytes),
        broadcastEvidence: (bytes) => void p2p.publishConsensus('evidence', bytes),
      },
      verifier: bestVerifier(),
      sigCache: modules.signatureCache,
      penalise: (peerId, penalty, reason) => p2p.reportPeer(peerId, penalty, reason),
      catchup: {
        peerIds: () => p2p.handshakenPeerIds,
        votes: (peerId, height, round) => p2p.reqResp.getConsensusVotes(peerId, height, round),
        proposal: (peerId, hash) => p2p.reqResp.getProposalByHash(peerId, hash),
      },
      onAhead: (peerId, height) => p2p.hintAhead(peerId, height),
      metrics: createConsensusMetrics(modules.metricsRegistry),
      logger: logger.child({ module: 'consensus' }),
    },
  );
  p2p.setConsensus((peerId, message) => engine.onGossip(peerId, message), engine);
  // Every connected block, whichever path brought it, settles the evidence pool.
  const onBlock = (event: { readonly block: Parameters<BftEngine['onBlockConnected']>[0] }) =>
    engine.onBlockConnected(event.block);
  importer.events.on('block', onBlock);
  closers.push('evidence pool', async () => {
    importer.events.off('block', onBlock);
  });
  // Stopping it lets the block being committed finish; p2p stops feeding it first.
  closers.push('consensus', async () => {
    p2p.setConsensus(null);
    await engine.stop();
  });
  const unwatch = watchOwnValidator(
    { consensusKey: validatorKey.publicKey },
    {
      chain,
      importer,
      staking: new StakingQueriesFromState(
        { params: chain.params.staking },
        { state: chain.state },
      ),
      registry: modules.metricsRegistry,
      logger,
    },
  );
  closers.push('validator metrics', async () => unwatch());
  return engine;
}

/** The HTTP API and the /metrics server (built, not yet listening). */
async function openApi(
  config: NodeConfig,
  modules: {
    logger: Logger;
    db: Database;
    paths: DataPaths;
    chain: Chain;
    mempool: Mempool;
    importer: BlockImporter;
    metricsRegistry: Registry;
    auth: AuthStack;
    p2p: P2PHost;
    syncer: BlockSyncer;
    engine: ConsensusEngine | null;
    stateSync: StateSyncState;
  },
  closers: CloseStack,
): Promise<{ api: ApiServer; metricsServer: MetricsServer }> {
  const { logger, paths, chain, mempool, importer, metricsRegistry, auth, p2p, syncer, engine } =
    modules;
  const { stateSync } = modules;
  const api = await ApiServer.init(
    {
      host: config.rpcHost,
      port: config.rpcPort,
      bodyLimit: config.bodyLimit,
      corsOrigins: config.corsOrigins,
      trustProxy: config.trustProxy,
      readyMaxTipAgeMs: config.readyMaxTipAgeMs,
    },
    {
      chain,
      mempool,
      metricsRegistry,
      logger,
      status: {
        get syncing() {
          return stateSync.running || syncer.isFarBehind(SYNC_READY_LAG_BLOCKS);
        },
        get stateSync() {
          return stateSync.status;
        },
        get stateSyncRunning() {
          return stateSync.running;
        },
        get peers() {
          return p2p.status.peers;
        },
        get listenAddrs() {
          return p2p.listenAddrs;
        },
        get sync() {
          return syncer.status();
        },
      },
      blockEvents: importer.events,
      auth: auth.apiHook,
      admin: {
        flushMempool: async () => {
          await mempool.saveTo(paths.mempool);
          return { path: paths.mempool, txs: mempool.size };
        },
        peers: p2p,
        backup: ({ includeKeys }) => nodeBackup(modules.db, chain, paths, includeKeys),
      },
      ...(engine instanceof BftEngine ? { consensus: consensusQueries(engine) } : {}),
      staking: new StakingQueriesFromState(
        { params: chain.params.staking },
        { state: chain.state },
      ),
    },
  );
  closers.push('api', () => api.close());
  const metricsServer = await MetricsServer.init(
    { host: config.metricsHost, port: config.metricsPort },
    { registry: metricsRegistry, logger },
  );
  closers.push('metrics-server', () => metricsServer.close());
  return { api, metricsServer };
}

/** The engine's summary and last round change as the /consensus route reads them. */
function consensusQueries(engine: BftEngine): ConsensusQueries {
  return {
    summary: () => {
      const summary = engine.summary;
      return summary === null ? null : { ...summary, lastRoundChange: engine.lastRoundChange };
    },
    pendingEvidence: () => engine.evidence.pool.list(),
  };
}
