import type { Command } from 'commander';
import { loadConfig } from '../../config/index.ts';
import { createLogger } from '../../logger/index.ts';
import { initDatadir, isInitialised, UtxoNode } from '../../node/index.ts';
import { asError } from '../../util/index.ts';
import { datadirOption } from '../shared.ts';

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
    .action(async (flags: StartFlags) => {
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
      const node = await UtxoNode.init(config, { logger });
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
      await node.start();
    });
}
