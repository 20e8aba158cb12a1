import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { CliError, print } from '../shared.ts';

export function registerStatus(program: Command): void {
  withRpcOptions(
    program
      .command('status')
      .description("a running node's version, tip, sync, peers and the addresses it listens on"),
  )
    .option('--json', 'print the API response as JSON')
    .option('--p2p-addr', "print only the node's first p2p address, for another node's --bootstrap")
    .action(async (flags: RpcFlags & { json?: boolean; p2pAddr?: boolean }) => {
      const node = await rpcClient(flags);
      const status = await node.call((api) => api.status());
      if (flags.json === true) return print(JSON.stringify(status, null, 2));
      if (flags.p2pAddr === true) {
        // Loopback first: the address that works on this machine whatever its interfaces.
        const addrs = [...status.listenAddrs].sort(
          (a, b) => Number(!a.startsWith('/ip4/127.')) - Number(!b.startsWith('/ip4/127.')),
        );
        if (addrs[0] === undefined)
          throw new CliError('USAGE', `the node at ${node.api.url} does not listen for peers`);
        return print(addrs[0]);
      }
      print(`version: ${status.version}`);
      print(`chain:   ${status.chainId} (${status.network})`);
      print(
        `tip:     ${status.tip.height} ${status.tip.hash} (${Math.round(status.tip.ageMs / 1000)} s ago)`,
      );
      if (status.earliestHeight > 0)
        print(`history: from height ${status.earliestHeight} (began from a snapshot)`);
      print(`syncing: ${status.syncing ? 'yes' : 'no'}, peers: ${status.peers}`);
      print(`mempool: ${status.mempool.size} txs, ${status.mempool.bytes} bytes`);
      print(`api:     ${node.api.url}`);
      // What another node passes to --bootstrap.
      for (const addr of status.listenAddrs) print(`p2p:     ${addr}`);
      print(`uptime:  ${status.uptimeSeconds} s`);
    });
}
