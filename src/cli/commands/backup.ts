import type { Command } from 'commander';
import { type RpcFlags, withRpcOptions } from '../rpc-options.ts';
import { CliError, print } from '../shared.ts';

interface BackupFlags extends RpcFlags {
  out: string;
  includeKeys?: boolean;
}

export function registerBackup(program: Command): void {
  withRpcOptions(
    program
      .command('backup')
      .description(
        'write a consistent backup of a running node to a file (a LevelDB snapshot: block production does not pause)',
      )
      .requiredOption('--out <file>', 'backup file to create (must not exist)')
      .option(
        '--include-keys',
        'also back up the validator key, p2p identity, signer state and API auth records (keep the file secret)',
      ),
  ).action(async (flags: BackupFlags) => {
    const { open, rename, rm } = await import('node:fs/promises');
    const { rpcEndpoint } = await import('../rpc-options.ts');
    if (flags.includeKeys === true)
      process.stderr.write(
        'warning: the backup will hold the validator key: anyone with the file can sign as this validator, and running it on two machines at once double-signs (slashed)\n',
      );
    const { url, token } = await rpcEndpoint(flags, 'admin');
    let response: Response;
    try {
      response = await fetch(`${url}/api/v1/admin/backup`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify({ includeKeys: flags.includeKeys === true }),
      });
    } catch (error) {
      throw new CliError(
        'NODE_UNREACHABLE',
        `no node answers at ${url} (${(error as Error).message}): start it, or pass --rpc URL`,
      );
    }
    if (!response.ok || response.body === null) {
      const text = await response.text();
      throw new CliError(
        response.status === 401 || response.status === 403 ? 'AUTH_MISSING' : 'NODE_UNREACHABLE',
        `the node refused the backup (${response.status}): ${text.slice(0, 300)}`,
      );
    }
    // Written under a temporary name: a cut connection never leaves a file that looks complete.
    const partial = `${flags.out}.partial`;
    const file = await open(partial, 'wx', flags.includeKeys === true ? 0o600 : 0o644);
    let bytes = 0;
    try {
      for await (const chunk of response.body) {
        await file.write(chunk);
        bytes += chunk.length;
      }
      await file.sync();
    } catch (error) {
      await file.close();
      await rm(partial, { force: true });
      throw error;
    }
    await file.close();
    const { openBackup } = await import('../../snapshot/backup.ts');
    const check = await openBackup(partial);
    await check.close();
    await rename(partial, flags.out);
    print(
      `backup of ${check.header.chainId} at height ${check.header.height} (${check.header.tipHash}) written to ${flags.out} (${bytes} bytes)${check.header.includesKeys ? ', with keys' : ''}`,
    );
  });
}
