import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, datadirOption, print } from '../shared.ts';

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'prepare a data directory: a new one-validator devnet, or (with --genesis) a node of an existing network',
    )
    .option('--network <name>', 'network to create (only devnet can be created locally)', 'devnet')
    .option(
      '--genesis <file>',
      "join an existing network: its genesis.json (for a devnet, the producer's)",
    )
    .addOption(datadirOption())
    .action(async (opts: { network: string; genesis?: string; datadir: string }) => {
      if (opts.genesis === undefined && opts.network !== 'devnet') {
        throw new CliError(
          'USAGE',
          `--network ${opts.network}: only a devnet can be created; join other networks with --genesis FILE`,
        );
      }
      if (opts.genesis !== undefined && !existsSync(opts.genesis))
        throw new CliError(
          'USAGE',
          `--genesis ${opts.genesis} does not exist: pass the genesis.json of the network to join (a devnet's is in its producer's data directory)`,
        );
      const { initDatadir, dataPaths } = await import('../../node/datadir.ts');
      if (existsSync(dataPaths(opts.datadir).genesis))
        throw new CliError(
          'USAGE',
          `${opts.datadir} is already initialised: start it with \`utxod start --datadir ${opts.datadir}\`, or pass another --datadir`,
        );
      const { buildGenesisBlock } = await import('../../chain/genesis.ts');
      const { NETWORK_HRP } = await import('../../crypto/address.ts');
      const { lockToAddress } = await import('../../primitives/address.ts');
      const { pubkeyLock } = await import('../../primitives/lock.ts');
      const { toHex } = await import('../../util/bytes.ts');
      // A failed init leaves nothing behind, so the next attempt does not meet a half-made directory.
      const existed = existsSync(opts.datadir);
      let result: ReturnType<typeof initDatadir>;
      try {
        result = initDatadir(
          opts.datadir,
          opts.genesis === undefined ? {} : { genesisFile: opts.genesis },
        );
      } catch (error) {
        if (!existed) rmSync(opts.datadir, { recursive: true, force: true });
        if (opts.genesis !== undefined)
          throw new CliError(
            'USAGE',
            `--genesis ${opts.genesis} is not a usable genesis file: ${(error as Error).message}`,
          );
        throw error;
      }
      const hrp = NETWORK_HRP[result.genesis.params.network];
      print(`initialised ${result.paths.root}`);
      print(`  chain id:     ${result.genesis.chainId}`);
      print(`  genesis hash: ${toHex((await buildGenesisBlock(result.genesis)).block.hash)}`);
      if (result.validatorKey !== null) {
        print(
          `  validator:    ${toHex(result.validatorKey.publicKey)} (key in ${result.paths.validatorKey}, mode 0600)`,
        );
        print(`  rewards to:   ${lockToAddress(pubkeyLock(result.validatorKey.publicKey), hrp)}`);
      }
      print(`  config:       ${result.paths.config}`);
    });
}
