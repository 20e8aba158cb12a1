import type { Command } from 'commander';
import { buildGenesisBlock } from '../../chain/index.ts';
import { NETWORK_HRP } from '../../crypto/index.ts';
import { initDatadir } from '../../node/index.ts';
import { lockToAddress, pubkeyLock } from '../../primitives/index.ts';
import { toHex } from '../../util/index.ts';
import { datadirOption, print } from '../shared.ts';

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
    .action((opts: { network: string; genesis?: string; datadir: string }) => {
      if (opts.genesis === undefined && opts.network !== 'devnet') {
        throw new Error(
          `--network ${opts.network}: only a devnet can be created; join other networks with --genesis FILE`,
        );
      }
      const result = initDatadir(
        opts.datadir,
        opts.genesis === undefined ? {} : { genesisFile: opts.genesis },
      );
      const hrp = NETWORK_HRP[result.genesis.params.network];
      print(`initialised ${result.paths.root}`);
      print(`  chain id:     ${result.genesis.chainId}`);
      print(`  genesis hash: ${toHex(buildGenesisBlock(result.genesis).block.hash)}`);
      if (result.validatorKey !== null) {
        print(
          `  validator:    ${toHex(result.validatorKey.publicKey)} (key in ${result.paths.validatorKey}, mode 0600)`,
        );
        print(`  rewards to:   ${lockToAddress(pubkeyLock(result.validatorKey.publicKey), hrp)}`);
      }
      print(`  config:       ${result.paths.config}`);
    });
}
