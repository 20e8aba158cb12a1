import type { Command } from 'commander';
import { verifyChain } from '../../chain/index.ts';
import { silentLogger } from '../../logger/index.ts';
import { openChainOffline } from '../offline.ts';
import { progressBar } from '../progress.ts';
import { datadirOption, print } from '../shared.ts';

export function registerVerifyChain(program: Command): void {
  program
    .command('verify-chain')
    .description(
      're-validate the stored chain from the last checkpoint (or from genesis with --full); the node must be stopped',
    )
    .addOption(datadirOption())
    .option('--full', 'replay every block from genesis and rehash the whole UTXO set')
    .option('--scan-utxos', 'also rehash every stored coin and compare with the tip commitment')
    .action(async (opts: { datadir: string; full?: boolean; scanUtxos?: boolean }) => {
      const offline = await openChainOffline(opts.datadir, silentLogger());
      try {
        const started = performance.now();
        const bar = progressBar('verifying');
        const full = opts.full === true;
        const result = await verifyChain(offline.chain, {
          full,
          scanUtxos: full || opts.scanUtxos === true,
          signatures: offline.signatures,
          onProgress: bar,
        });
        bar.finish();
        print(
          `verified blocks ${result.fromHeight + 1}..${result.toHeight} (${result.blocksVerified} blocks) in ${((performance.now() - started) / 1000).toFixed(2)} s`,
        );
        print(`height:         ${result.toHeight}`);
        print(`tip hash:       ${result.tipHash}`);
        print(`utxo set hash:  ${result.utxoRoot}`);
        if (result.coinsScanned !== null) print(`coins rehashed: ${result.coinsScanned}`);
        print('OK');
      } finally {
        await offline.close();
      }
    });
}
