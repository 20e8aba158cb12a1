import type { Command } from 'commander';
import { CliError, datadirOption, parseCount } from '../shared.ts';

interface StartFlags {
  datadir: string;
  blockInterval?: string;
  emptyBlocks?: boolean;
  logLevel?: string;
  logFormat?: string;
  rpcHost?: string;
  rpcPort?: string;
  metricsHost?: string;
  metricsPort?: string;
  verifyWorkers?: string;
  p2pHost?: string;
  p2pPort?: string;
  bootstrap?: string[];
  stateSync?: boolean;
  trustedHeight?: number;
  trustedHash?: string;
  stateSyncPeers?: number;
}

export function registerStart(program: Command): void {
  program
    .command('start')
    .description('run the node (initialises a devnet data directory on first run)')
    .addOption(datadirOption())
    .option('--block-interval <ms>', 'milliseconds between blocks this validator proposes')
    .option('--no-empty-blocks', 'only propose blocks that carry transactions')
    .option('--log-level <level>', 'fatal, error, warn, info, debug, trace or silent')
    .option('--log-format <format>', 'json, pretty or auto (pretty on a terminal)')
    .option('--rpc-host <host>', 'address the API listens on')
    .option('--rpc-port <port>', 'port the API listens on (0 picks a free one)')
    .option('--metrics-host <host>', 'address the Prometheus /metrics server listens on')
    .option('--metrics-port <port>', 'port of the /metrics server (0 picks a free one)')
    .option('--verify-workers <n>', 'signature verification threads (0 = main thread)')
    .option('--p2p-host <host>', 'address the p2p host listens on')
    .option('--p2p-port <port>', 'TCP port of the p2p host (0 picks a free one)')
    .option(
      '--bootstrap <multiaddr>',
      'peer to dial and keep connected, /ip4/.../tcp/.../p2p/<peer id> (repeatable)',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option(
      '--state-sync',
      'on an empty chain: fetch and verify a snapshot from peers, then block-sync from its height',
    )
    .option(
      '--trusted-height <height>',
      'state sync: accept only the snapshot of this block (with --trusted-hash)',
      parseCount('--trusted-height'),
    )
    .option('--trusted-hash <hex>', 'state sync: hash of the block at --trusted-height')
    .option(
      '--state-sync-peers <n>',
      'state sync: peers that must offer the same snapshot (default 2)',
      parseCount('--state-sync-peers'),
    )
    .action(async (flags: StartFlags) => {
      const { loadConfig } = await import('../../config/index.ts');
      const { createLogger } = await import('../../logger/index.ts');
      const { assertWritableDatadir, initDatadir, isInitialised } = await import(
        '../../node/datadir.ts'
      );
      const { UtxoNode } = await import('../../node/node.ts');
      const { asError } = await import('../../util/errors.ts');
      const { explainStartFailure } = await import('../start-errors.ts');
      assertWritableDatadir(flags.datadir);
      if (!isInitialised(flags.datadir)) initDatadir(flags.datadir);
      const config = loadConfig(flags.datadir, {
        blockIntervalMs: flags.blockInterval,
        // commander sets emptyBlocks=true unless --no-empty-blocks; only an explicit "no" overrides config.
        emptyBlocks: flags.emptyBlocks === false ? false : undefined,
        logLevel: flags.logLevel,
        logFormat: flags.logFormat,
        rpcHost: flags.rpcHost,
        rpcPort: flags.rpcPort,
        metricsHost: flags.metricsHost,
        metricsPort: flags.metricsPort,
        verifyWorkers: flags.verifyWorkers,
        p2pHost: flags.p2pHost,
        p2pPort: flags.p2pPort,
        bootstrap: flags.bootstrap,
      });
      const logger = createLogger({ level: config.logLevel, format: config.logFormat });
      const stateSync =
        flags.stateSync === true ? await stateSyncFirst(config, flags, logger) : null;
      let node: Awaited<ReturnType<typeof UtxoNode.init>>;
      try {
        node = await UtxoNode.init(config, { logger }, { stateSync });
      } catch (error) {
        throw explainStartFailure(error, config);
      }
      let stopping = false;
      const shutdown = (signal: NodeJS.Signals) => {
        if (stopping) {
          logger.warn({ signal }, 'second signal: exiting without a clean shutdown');
          process.exit(130);
        }
        stopping = true;
        logger.info({ signal }, 'shutting down');
        node.close().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.fatal({ err: asError(error) }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGINT', shutdown);
      process.on('SIGTERM', shutdown);
      try {
        await node.start();
      } catch (error) {
        await node
          .close()
          .catch((closeError: unknown) =>
            logger.error({ err: asError(closeError) }, 'could not close after a failed start'),
          );
        throw explainStartFailure(error, config);
      }
    });
}

/**
 * `start --state-sync`: if the chain holds only genesis, a first node with
 * p2p alone fetches a snapshot; it closes, and the normal start below opens
 * the snapshot's chain and block-syncs from there. On a chain past genesis
 * (a restart after a finished state sync) it does nothing. Returns the
 * finished sync's progress (null when none ran), which the second node keeps
 * reporting in its status.
 */
async function stateSyncFirst(
  config: import('../../config/index.ts').NodeConfig,
  flags: StartFlags,
  logger: import('pino').Logger,
): Promise<import('../../snapshot/index.ts').StateSyncStatus | null> {
  const { UtxoNode } = await import('../../node/node.ts');
  const { fromHex } = await import('../../util/bytes.ts');
  const { explainStartFailure } = await import('../start-errors.ts');
  const { progressBar } = await import('../progress.ts');
  if ((flags.trustedHeight === undefined) !== (flags.trustedHash === undefined))
    throw new CliError('USAGE', '--trusted-height and --trusted-hash go together');
  const trusted =
    flags.trustedHeight === undefined || flags.trustedHash === undefined
      ? null
      : { height: flags.trustedHeight, hash: fromHex(flags.trustedHash, 32) };
  let node: Awaited<ReturnType<typeof UtxoNode.init>>;
  try {
    node = await UtxoNode.init(config, { logger }, { consensus: false });
  } catch (error) {
    throw explainStartFailure(error, config);
  }
  try {
    if (node.chain.tipHeight !== 0) {
      logger.info({ height: node.chain.tipHeight }, 'chain present: state sync not needed');
      return null;
    }
    const abort = new AbortController();
    const stop = () => abort.abort(new CliError('USAGE', 'state sync interrupted'));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const bar = progressBar('state sync');
      const height = await node.runStateSync(
        {
          trusted,
          minPeers: flags.stateSyncPeers ?? 2,
          discoverTimeoutMs: 10 * 60_000,
          onProgress: (s) => bar(s.chunksDone, s.chunksTotal),
        },
        abort.signal,
      );
      bar.finish();
      logger.info({ height }, 'state sync complete; starting from the snapshot');
      return node.stateSync;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  } finally {
    await node.close();
  }
}
