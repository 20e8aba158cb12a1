import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { verifyAuditLog } from '../../audit/index.ts';
import { dataPaths } from '../../node/index.ts';
import { Database } from '../../storage/index.ts';
import { datadirOption, print } from '../shared.ts';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log of the API');
  audit
    .command('verify')
    .description(
      'walk the audit log and report any edited, removed or reordered entry; the node must be stopped',
    )
    .addOption(datadirOption())
    .action(async (opts: { datadir: string }) => {
      const paths = dataPaths(opts.datadir);
      if (!existsSync(paths.chainDb))
        throw new Error(
          `${paths.chainDb} does not exist: is ${opts.datadir} a utxod data directory?`,
        );
      const db = await Database.open({ path: paths.chainDb, syncWrites: true });
      try {
        const result = await verifyAuditLog(db);
        print(`entries:  ${result.entries}`);
        if (result.head !== null)
          print(`last:     seq ${result.head.seq} hash ${result.head.hash}`);
        if (result.ok) {
          print('OK');
          return;
        }
        for (const problem of result.problems)
          print(`seq ${problem.seq}: ${problem.kind}: ${problem.message}`);
        print(`FAILED: ${result.problems.length} problem(s)`);
        process.exitCode = 2;
      } finally {
        await db.close();
      }
    });
}
