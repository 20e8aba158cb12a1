import type { Command } from 'commander';
import { datadirOption, print } from '../shared.ts';

export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description(
      'restore a backup into a new data directory; refuses a damaged or foreign backup and re-verifies the chain before it reports success',
    )
    .argument('<file>', 'file from `utxod backup`')
    .addOption(datadirOption())
    .action(async (file: string, opts: { datadir: string }) => {
      const { resolve } = await import('node:path');
      const { silentLogger } = await import('../../logger/index.ts');
      const { dataPaths } = await import('../../node/datadir.ts');
      const { restoreBackup } = await import('../../snapshot/restore.ts');
      const root = resolve(opts.datadir);
      const started = performance.now();
      const result = await restoreBackup(
        { file, datadir: root, chainDir: dataPaths(root).chainDb },
        { logger: silentLogger() },
      );
      const { header, verified } = result;
      if (header.includesKeys)
        process.stderr.write(
          'warning: this backup carried keys; do not run this node while the original one runs with the same validator key (double signing is slashed)\n',
        );
      print(`restored ${header.chainId} at height ${header.height} into ${root}`);
      print(`${result.entries} database records, files: ${result.files.join(', ')}`);
      print(
        `verified blocks ${verified.fromHeight + 1}..${verified.toHeight}, coins rehashed: ${verified.coinsScanned}, tip ${verified.tipHash}`,
      );
      print(`took ${((performance.now() - started) / 1000).toFixed(2)} s`);
      print('OK');
    });
}
