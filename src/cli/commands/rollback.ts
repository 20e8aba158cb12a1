import { rmSync } from 'node:fs';
import type { Command } from 'commander';
import { silentLogger } from '../../logger/index.ts';
import { dataPaths } from '../../node/index.ts';
import { toHex } from '../../util/index.ts';
import { openChainOffline } from '../offline.ts';
import { datadirOption, parseCount, print } from '../shared.ts';

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description(
      'undo the top N blocks with their undo data (recovery tool; the node must be stopped)',
    )
    .argument('<blocks>', 'how many blocks to undo', parseCount('<blocks>'))
    .addOption(datadirOption())
    .option(
      '--reset-signer',
      'forget the validator signing state so this node can propose at the rolled-back heights again; ' +
        'only safe when no other node saw the undone blocks (a private devnet)',
    )
    .action(async (blocks: number, opts: { datadir: string; resetSigner?: boolean }) => {
      const offline = await openChainOffline(opts.datadir, silentLogger());
      try {
        const { chain } = offline;
        if (blocks > chain.tipHeight)
          throw new Error(`cannot undo ${blocks} blocks: the tip is at height ${chain.tipHeight}`);
        for (let i = 0; i < blocks; i++) await chain.disconnectTip();
        print(
          `rolled back ${blocks} blocks; tip is now ${chain.tipHeight} ${toHex(chain.tip.hash)}`,
        );
      } finally {
        await offline.close();
      }
      if (opts.resetSigner === true) {
        rmSync(dataPaths(opts.datadir).signerState, { force: true });
        print('validator signing state reset');
      }
    });
}
