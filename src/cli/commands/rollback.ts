import { existsSync, rmSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError, datadirOption, parseCount, print, requireDatadir } from '../shared.ts';

interface RollbackFlags {
  datadir: string;
  resetSigner?: boolean;
  force?: boolean;
}

export function registerRollback(program: Command): void {
  program
    .command('rollback')
    .description(
      'undo the top N blocks with their undo data (recovery tool; the node must be stopped)',
    )
    .argument('<blocks>', 'how many blocks to undo (0 with --reset-signer)', parseCount('<blocks>'))
    .addOption(datadirOption())
    .option(
      '--reset-signer',
      'forget the validator signing state so this node can propose at the rolled-back heights again; ' +
        'only safe when no other node saw the undone blocks (a private devnet)',
    )
    .option('--force', 'roll back a validator (see the warning this command prints without it)')
    .action(async (blocks: number, opts: RollbackFlags) => {
      requireDatadir(opts.datadir);
      const { dataPaths } = await import('../../node/datadir.ts');
      const paths = dataPaths(opts.datadir);
      // A validator's signer refuses to sign the undone heights again (it signed them
      // once): the node would stall at the new tip instead of producing blocks.
      // --reset-signer is an explicit answer to that problem, so it confirms too
      // (and `rollback 0 --reset-signer` only resets a signer left ahead).
      if (existsSync(paths.validatorKey) && opts.force !== true && opts.resetSigner !== true)
        throw new CliError(
          'CONFIRM',
          `${opts.datadir} is a validator: after a rollback it will not sign the undone heights again, so it stops producing blocks ` +
            'until the network passes them (on a private devnet add --reset-signer to let it sign them anew). ' +
            'Pass --force to roll back anyway.',
        );
      const { openChainOffline } = await import('../offline.ts');
      const { silentLogger } = await import('../../logger/index.ts');
      const { toHex } = await import('../../util/bytes.ts');
      const offline = await openChainOffline(opts.datadir, silentLogger());
      try {
        const { chain } = offline;
        if (blocks > chain.tipHeight)
          throw new CliError(
            'USAGE',
            `cannot undo ${blocks} blocks: the tip is at height ${chain.tipHeight}`,
          );
        for (let i = 0; i < blocks; i++) await chain.disconnectTip();
        print(
          `rolled back ${blocks} blocks; tip is now ${chain.tipHeight} ${toHex(chain.tip.hash)}`,
        );
      } finally {
        await offline.close();
      }
      if (opts.resetSigner === true) {
        rmSync(paths.signerState, { force: true });
        print('validator signing state reset');
      } else if (existsSync(paths.validatorKey))
        print(
          'warning: the validator will not sign the undone heights again; without --reset-signer it waits for other validators to pass them',
        );
    });
}
