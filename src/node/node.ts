import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { type AuthStack, openAuthStack } from '../api/auth/index.ts';
import { MetricsServer } from '../api/metrics-server.ts';
import { ApiServer } from '../api/server.ts';
import { Chain } from '../chain/chain.ts';
import type { NodeConfig } from '../config/index.ts';
import type { ConsensusEngine } from '../consensus/engine.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { SingleValidatorEngine } from '../consensus/single-validator-engine.ts';
import { ValidatorSigner } from '../consensus/validator-signer.ts';
import { CoalescingVerifier } from '../crypto/coalescing-verifier.ts';
import { SignatureCache } from '../crypto/sig-cache.ts';
import { ParallelVerifier } from '../crypto/verify-pool.ts';
import { Mempool } from '../mempool/mempool.ts';
import {
  createChainMetrics,
  createMetricsRegistry,
  registerStateMetrics,
} from '../metrics/index.ts';
import { identityPath, P2PHost } from '../p2p/index.ts';
import { BlockSyncer, createSyncMetrics, ReqRespPeerSet } from '../p2p/sync/index.ts';
import { Database } from '../storage/db.ts';
import { toHex } from '../util/bytes.ts';
import { asError } from '../util/errors.ts';
import { BlockImporter } from './block-importer.ts';
import { BlockProducer } from './block-producer.ts';
import { type DataPaths, dataPaths, loadGenesis, loadValidatorKey } from './datadir.ts';

const MB = 1024 * 1024;
const MEMPOOL_EXPIRY_CHECK_MS = 60_000;
/** Behind the best peer by more than this many blocks: the node reports itself syncing (not ready). */
const SYNC_READY_LAG_BLOCKS = 10;

interface NodeModules {
  readonly auth: AuthStack;
  readonly config: NodeConfig;
  readonly paths: DataPaths;
  readonly logger: Logger;
  readonly db: Database;
  readonly verifier: ParallelVerifier;
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly importer: BlockImporter;
  readonly metricsRegistry: Registry;
  readonly engine: ConsensusEngine | null;
  readonly api: ApiServer;
  readonly metricsServer: MetricsServer;
  readonly p2p: P2PHost;
  readonly syncer: BlockSyncer;
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
  private readonly db: Database;
  private readonly verifier: ParallelVerifier;
  private readonly engine: ConsensusEngine | null;
  private status: 'ready' | 'started' | 'closing' | 'closed' = 'ready';
  private rpcAddress: string | null = null;
  private metricsAddress: string | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;

  private constructor(modules: NodeModules) {
    this.config = modules.config;
    this.paths = modules.paths;
    this.logger = modules.logger;
    this.db = modules.db;
    this.verifier = modules.verifier;
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
  }

  static async init(config: NodeConfig, modules: { logger: Logger }): Promise<UtxoNode> {
    const { logger } = modules;
    const paths = dataPaths(config.datadir);
    const genesis = loadGenesis(paths);
    // Built in order; if a later step fails, what was built is closed in reverse.
    const opened: Array<() => Promise<void>> = [];
    try {
      const db = await Database.open({ path: paths.chainDb, syncWrites: config.syncWrites });
      opened.push(() => db.close());
      const verifier = await ParallelVerifier.init({ workers: config.verifyWorkers });
      opened.push(() => verifier.close());
      const cache =
        config.signatureCacheEntries > 0
          ? new SignatureCache({ maxEntries: config.signatureCacheEntries })
          : null;
      const signatures = new SignatureChecker({ verifier, cache });
      const chain = await Chain.init(
        { utxoCacheBytes: config.utxoCacheMb * MB },
        { db, genesis, signatures, logger: logger.child({ module: 'chain' }) },
      );
      const mempool = new Mempool(
        { maxBytes: config.mempoolMaxMb * MB, minRelayFeeRate: config.minRelayFeeRate },
        {
          params: chain.params,
          chainIdHash: chain.chainIdHash,
          chain,
          // Same cache as the chain's; admissions arriving together verify as one batch.
          signatures: new SignatureChecker({
            verifier: new CoalescingVerifier({}, { pool: verifier }),
            cache,
          }),
        },
      );
      const metricsRegistry = createMetricsRegistry();
      const auth = await openAuthStack(config, {
        db,
        logger: logger.child({ module: 'auth' }),
        metricsRegistry,
      });
      opened.push(() => auth.close());
      registerStateMetrics(metricsRegistry, {
        mempool,
        utxoCache: chain.utxos.cache,
        signatureCache: cache,
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
      const p2p = await P2PHost.init(
        {
          host: config.p2pHost,
          port: config.p2pPort,
          bootstrap: config.bootstrap,
          maxConnections: config.maxConnections,
          maxInboundPerIp: config.maxInboundPerIp,
          banDurationMs: config.banDurationMs,
          identityPath: identityPath(paths.root),
        },
        { logger: logger.child({ module: 'p2p' }), db, chain, mempool, importer, metricsRegistry },
      );
      opened.push(() => p2p.close());
      // Relay what this node's users submit and orphans that just became valid;
      // transactions from peers are already being relayed by gossipsub itself.
      mempool.events.on('accepted', ({ tx, origin }) => {
        if (origin !== 'peer') void p2p.broadcastTransaction(tx);
      });
      const syncLogger = logger.child({ module: 'sync' });
      const syncer: BlockSyncer = new BlockSyncer(
        {},
        {
          chain,
          importer,
          peers: new ReqRespPeerSet({}, { client: p2p.reqResp, source: p2p, logger: syncLogger }),
          signatures,
          mempool,
          logger: syncLogger,
          metrics: createSyncMetrics(metricsRegistry, () => syncer.status()),
        },
      );
      // Transactions gossiped while catching up wait in the syncer, not the orphan pool.
      p2p.setTransactionDeferral(syncer);

      let engine: ConsensusEngine | null = null;
      const validatorKey = loadValidatorKey(paths);
      if (validatorKey !== null && chain.validators.indexOf(validatorKey.publicKey) !== -1) {
        const signer = new ValidatorSigner(
          { statePath: paths.signerState, chainIdHash: chain.chainIdHash },
          { key: validatorKey },
        );
        if (signer.lastSignedHeight > chain.tipHeight + 1) {
          // Happens after `utxod rollback`: the signer will not sign the undone heights again.
          logger.warn(
            {
              event: 'signer-ahead-of-chain',
              lastSigned: signer.lastSignedHeight,
              tip: chain.tipHeight,
            },
            'the validator already signed blocks above the tip; it will refuse to propose until the chain passes that height',
          );
        }
        const producer = new BlockProducer(
          { emptyBlocks: config.emptyBlocks, validatorKey: validatorKey.publicKey },
          { chain, mempool, importer },
        );
        engine = new SingleValidatorEngine(
          { blockIntervalMs: config.blockIntervalMs },
          {
            host: producer,
            signer,
            validators: chain.validators,
            logger: logger.child({ module: 'consensus' }),
          },
        );
      }
      const api = await ApiServer.init(
        {
          host: config.rpcHost,
          port: config.rpcPort,
          bodyLimit: config.bodyLimit,
          corsOrigins: config.corsOrigins,
          readyMaxTipAgeMs: config.readyMaxTipAgeMs,
        },
        {
          chain,
          mempool,
          metricsRegistry,
          logger,
          status: {
            get syncing() {
              return syncer.isFarBehind(SYNC_READY_LAG_BLOCKS);
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
          },
        },
      );
      opened.push(() => api.close());
      const metricsServer = await MetricsServer.init(
        { host: config.metricsHost, port: config.metricsPort },
        { registry: metricsRegistry, logger },
      );
      opened.push(() => metricsServer.close());
      logger.info(
        {
          datadir: paths.root,
          chainId: genesis.chainId,
          genesis: toHex(chain.genesisHash),
          height: chain.tipHeight,
          tip: toHex(chain.tip.hash),
          validator: engine !== null,
        },
        'node initialised',
      );
      return new UtxoNode({
        config,
        paths,
        logger,
        db,
        verifier,
        chain,
        mempool,
        importer,
        metricsRegistry,
        engine,
        api,
        metricsServer,
        p2p,
        auth,
        syncer,
      });
    } catch (error) {
      for (const close of opened.reverse()) {
        await close().catch((closeError: unknown) =>
          logger.error({ err: asError(closeError) }, 'cleanup after failed init'),
        );
      }
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
    this.rpcAddress = await this.api.listen();
    this.logger.info({ url: this.rpcAddress }, 'api listening');
    this.metricsAddress = await this.metricsServer.listen();
    this.logger.info({ url: this.metricsAddress }, 'metrics listening');
    await this.p2p.start();
    this.syncer.start();
    this.engine?.start();
    this.expiryTimer = setInterval(() => {
      const expired = this.mempool.expire();
      if (expired > 0) this.logger.info({ expired }, 'expired mempool transactions');
    }, MEMPOOL_EXPIRY_CHECK_MS);
    this.expiryTimer.unref();
  }

  /** Stops block production (finishing the block being committed), saves the mempool, closes the database. */
  async close(): Promise<void> {
    if (this.status === 'closing' || this.status === 'closed') return;
    this.status = 'closing';
    if (this.expiryTimer !== null) clearInterval(this.expiryTimer);
    await this.api.close();
    await this.metricsServer.close();
    await this.syncer.stop();
    try {
      await this.p2p.close();
    } catch (error) {
      this.logger.error({ err: asError(error) }, 'could not stop the p2p host');
    }
    await this.engine?.stop();
    try {
      await this.mempool.saveTo(this.paths.mempool);
    } catch (error) {
      this.logger.error({ err: asError(error) }, 'could not save the mempool');
    }
    await this.verifier.close();
    await this.auth.close();
    await this.db.close();
    this.status = 'closed';
    this.logger.info({ height: this.chain.tipHeight }, 'node closed');
  }
}
