import { Readable } from 'node:stream';
import type { LevelWithSilent } from 'pino';
import { fromHex, toHex } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import { withErrors } from '../schemas/common.ts';
import {
  BackupBody,
  BackupResponse,
  DropResponse,
  FlushResponse,
  LivenessResponse,
  LogLevelBody,
  LogLevelResponse,
  NodeStatusResponse,
  ReadinessResponse,
} from '../schemas/node.ts';
import { TxidParams } from '../schemas/txs.ts';
import type { ApiApp, ApiContext, StateSyncProgress, SyncProgress } from './context.ts';

/** A database that does not answer a one-key read within this is not ready. */
const DB_PROBE_TIMEOUT_MS = 2000;

/** Only the fields the schema promises (SyncStatus has more). */
function syncProgress(sync: SyncProgress | null): SyncProgress | null {
  if (sync === null) return null;
  const { state, currentHeight, targetHeight, blocksPerSecond, etaSeconds } = sync;
  return { state, currentHeight, targetHeight, blocksPerSecond, etaSeconds };
}

/** The schema's fields; the history starts at the snapshot height once the sync is done. */
function stateSyncProgress(progress: StateSyncProgress | null) {
  if (progress === null) return null;
  const { phase, height, chunksDone, chunksTotal, bytesDone, etaSeconds, peers } = progress;
  return {
    phase,
    height,
    chunksDone,
    chunksTotal,
    bytesDone,
    etaSeconds,
    peers,
    earliestHeight: phase === 'done' ? height : null,
  };
}

export function registerNodeRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain, mempool } = ctx;

  app.get(
    '/api/v1/node/status',
    {
      config: { auth: 'reader', duringStateSync: true },
      schema: {
        tags: ['node'],
        summary: 'Version, tip, uptime, sync and peer state',
        response: withErrors({ 200: NodeStatusResponse }),
      },
    },
    async () => ({
      version: ctx.version,
      earliestHeight: await chain.earliestHeight(),
      chainId: chain.genesis.chainId,
      network: chain.params.network,
      uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 100) / 10,
      tip: {
        height: chain.tip.height,
        hash: toHex(chain.tip.hash),
        time: chain.tip.header.time,
        ageMs: Date.now() - chain.tip.header.time,
      },
      syncing: ctx.status.syncing,
      sync: syncProgress(ctx.status.sync),
      stateSync: stateSyncProgress(ctx.status.stateSync ?? null),
      peers: ctx.status.peers,
      listenAddrs: [...ctx.status.listenAddrs],
      mempool: { size: mempool.size, bytes: mempool.bytes },
    }),
  );

  // ------------------------------------------------------------ admin

  app.get(
    '/api/v1/admin/log-level',
    {
      config: { auth: 'admin', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Current log level',
        response: withErrors({ 200: LogLevelResponse }),
      },
    },
    async () => ({ level: ctx.logger.level }),
  );

  app.put(
    '/api/v1/admin/log-level',
    {
      config: { auth: 'admin', duringStateSync: true },
      schema: {
        tags: ['admin'],
        summary: 'Change the log level at runtime (not persisted)',
        body: LogLevelBody,
        response: withErrors({ 200: LogLevelResponse }),
      },
    },
    async (request) => {
      const previous = ctx.logger.level;
      ctx.logger.level = request.body.level as LevelWithSilent;
      ctx.logger.warn(
        { event: 'log-level-changed', from: previous, to: request.body.level, reqId: request.id },
        'log level changed',
      );
      return { level: ctx.logger.level };
    },
  );

  app.post(
    '/api/v1/admin/mempool/flush',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Write the mempool snapshot to disk now',
        response: withErrors({ 200: FlushResponse }, [501]),
      },
    },
    async () => {
      if (ctx.admin.flushMempool === undefined)
        throw new ApiError(501, 'NOT_IMPLEMENTED', 'this server has no mempool file to flush to');
      return ctx.admin.flushMempool();
    },
  );

  app.post(
    '/api/v1/admin/backup',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Stream a consistent backup of the node (keys only with includeKeys)',
        body: BackupBody,
        response: withErrors({ 200: BackupResponse }, [501]),
      },
    },
    async (request, reply) => {
      if (ctx.admin.backup === undefined)
        throw new ApiError(501, 'NOT_IMPLEMENTED', 'this server cannot write backups');
      const includeKeys = request.body.includeKeys === true;
      ctx.logger.warn(
        { event: 'backup-started', includeKeys, reqId: request.id },
        includeKeys ? 'backup with keys requested' : 'backup requested',
      );
      reply.type('application/octet-stream');
      return reply.send(Readable.from(ctx.admin.backup({ includeKeys })));
    },
  );

  app.delete(
    '/api/v1/admin/mempool/txs/:txid',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Drop one transaction (and its descendants) from the mempool',
        params: TxidParams,
        response: withErrors({ 200: DropResponse }, [404]),
      },
    },
    async (request) => {
      const txid = fromHex(request.params.txid, 32);
      if (!mempool.has(txid)) throw new ApiError(404, 'NOT_FOUND', 'not in the mempool');
      const dropped = mempool.remove(txid);
      ctx.logger.warn(
        { event: 'mempool-drop', txid: request.params.txid, dropped, reqId: request.id },
        'dropped mempool transaction',
      );
      return { dropped };
    },
  );

  app.delete(
    '/api/v1/admin/mempool/txs',
    {
      config: { auth: 'admin' },
      schema: {
        tags: ['admin'],
        summary: 'Drop every mempool transaction',
        response: withErrors({ 200: DropResponse }),
      },
    },
    async (request) => {
      const dropped = mempool.clear();
      ctx.logger.warn(
        { event: 'mempool-clear', dropped, reqId: request.id },
        'cleared the mempool',
      );
      return { dropped };
    },
  );
}

/** Liveness and readiness: registered on the API server and on the metrics server. */
export function registerHealthRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain } = ctx;
  app.get(
    '/health/live',
    {
      config: { auth: 'public', duringStateSync: true },
      schema: {
        tags: ['health'],
        summary: 'The process is up and serving requests',
        response: { 200: LivenessResponse },
      },
    },
    async () => ({ status: 'alive' as const }),
  );

  app.get(
    '/health/ready',
    {
      config: { auth: 'public', duringStateSync: true },
      schema: {
        tags: ['health'],
        summary:
          'Database open, chain loaded, tip recent, not syncing or state-syncing (503 when not ready)',
        response: { 200: ReadinessResponse, 503: ReadinessResponse },
      },
    },
    async (_request, reply) => {
      const stateSyncing = ctx.status.stateSyncRunning === true;
      const components = {
        database: await probeDatabase(ctx),
        chain: stateSyncing
          ? {
              ok: false,
              detail: 'state sync in progress: the chain is being built from a snapshot',
            }
          : { ok: true, detail: `loaded at height ${chain.tipHeight}` },
        tip: tipState(ctx),
        sync: stateSyncing
          ? { ok: false, detail: stateSyncDetail(ctx.status.stateSync ?? null) }
          : ctx.status.syncing
            ? { ok: false, detail: 'syncing from peers' }
            : { ok: true, detail: `${ctx.status.peers} peers` },
      };
      const ready = Object.values(components).every((c) => c.ok);
      void reply.status(ready ? 200 : 503);
      return { status: ready ? ('ready' as const) : ('not-ready' as const), components };
    },
  );
}

function stateSyncDetail(progress: StateSyncProgress | null): string {
  if (progress === null || progress.phase === 'discovering')
    return `state sync: looking for a snapshot (${progress?.peers ?? 0} peers asked)`;
  const eta = progress.etaSeconds === null ? '' : `, about ${progress.etaSeconds} s left`;
  return `state sync ${progress.phase}: snapshot ${progress.height}, ${progress.chunksDone}/${progress.chunksTotal} chunks from ${progress.peers} peers${eta}`;
}

async function probeDatabase(ctx: ApiContext): Promise<{ ok: boolean; detail: string }> {
  let timer: NodeJS.Timeout | undefined;
  try {
    // The lowest stored block, not genesis: a chain that began at a snapshot has no genesis block.
    const read = async () => ctx.chain.getHashAt(await ctx.chain.earliestHeight());
    const hash = await Promise.race([
      read(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), DB_PROBE_TIMEOUT_MS);
      }),
    ]);
    return hash === undefined
      ? { ok: false, detail: 'the earliest stored block is missing' }
      : { ok: true, detail: 'open' };
  } catch (error) {
    return { ok: false, detail: `read failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

function tipState(ctx: ApiContext): { ok: boolean; detail: string } {
  const ageMs = Date.now() - ctx.chain.tip.header.time;
  if (ctx.readyMaxTipAgeMs > 0 && ageMs > ctx.readyMaxTipAgeMs)
    return { ok: false, detail: `tip is ${ageMs} ms old (limit ${ctx.readyMaxTipAgeMs} ms)` };
  return { ok: true, detail: `tip is ${ageMs} ms old` };
}
