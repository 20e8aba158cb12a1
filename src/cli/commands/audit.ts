import type { Command } from 'commander';
import { datadirOption, print, requireDatadir } from '../shared.ts';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the hash-chained audit log of the API');
  audit
    .command('verify')
    .description(
      'walk the audit log and report any edited, removed or reordered entry; the node must be stopped',
    )
    .addOption(datadirOption())
    .action(async (opts: { datadir: string }) => {
      requireDatadir(opts.datadir);
      const { verifyAuditLog } = await import('../../audit/log.ts');
      const { openDatabase } = await import('../offline.ts');
      const db = await openDatabase(opts.datadir);
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
