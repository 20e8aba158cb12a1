import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { print } from '../shared.ts';

export function registerStatus(program: Command): void {
  withRpcOptions(
    program.command('status').description("a running node's version, tip, sync and peers"),
  )
    .option('--json', 'print the API response as JSON')
    .action(async (flags: RpcFlags & { json?: boolean }) => {
      const status = await rpcClient(flags).status();
      if (flags.json === true) return print(JSON.stringify(status, null, 2));
      print(`version: ${status.version}`);
      print(`chain:   ${status.chainId} (${status.network})`);
      print(
        `tip:     ${status.tip.height} ${status.tip.hash} (${Math.round(status.tip.ageMs / 1000)} s ago)`,
      );
      print(`syncing: ${status.syncing ? 'yes' : 'no'}, peers: ${status.peers}`);
      print(`mempool: ${status.mempool.size} txs, ${status.mempool.bytes} bytes`);
      print(`uptime:  ${status.uptimeSeconds} s`);
    });
}
