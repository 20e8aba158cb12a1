import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { print } from '../shared.ts';

export function registerStatus(program: Command): void {
  withRpcOptions(
    program
      .command('status')
      .description("a running node's version, tip, sync, peers and the addresses it listens on"),
  )
    .option('--json', 'print the API response as JSON')
    .action(async (flags: RpcFlags & { json?: boolean }) => {
      const node = await rpcClient(flags);
      const status = await node.call((api) => api.status());
      if (flags.json === true) return print(JSON.stringify(status, null, 2));
      print(`version: ${status.version}`);
      print(`chain:   ${status.chainId} (${status.network})`);
      print(
        `tip:     ${status.tip.height} ${status.tip.hash} (${Math.round(status.tip.ageMs / 1000)} s ago)`,
      );
      print(`syncing: ${status.syncing ? 'yes' : 'no'}, peers: ${status.peers}`);
      print(`mempool: ${status.mempool.size} txs, ${status.mempool.bytes} bytes`);
      print(`api:     ${node.api.url}`);
      // What another node passes to --bootstrap.
      for (const addr of status.listenAddrs) print(`p2p:     ${addr}`);
      print(`uptime:  ${status.uptimeSeconds} s`);
    });
}
