import type { Command } from 'commander';
import { formatCoins } from '../../primitives/index.ts';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { print } from '../shared.ts';

export function registerBalance(program: Command): void {
  withRpcOptions(
    program
      .command('balance')
      .description("an address's confirmed balance and pending mempool changes, in coins")
      .argument('<address>', 'bech32m address'),
  )
    .option('--json', 'print the API response as JSON')
    .action(async (address: string, flags: RpcFlags & { json?: boolean }) => {
      const balance = await rpcClient(flags).balance(address);
      if (flags.json === true) return print(JSON.stringify(balance, null, 2));
      print(`address:     ${balance.address}`);
      print(
        `confirmed:   ${formatCoins(BigInt(balance.confirmed))} in ${balance.confirmedCoins} ${balance.confirmedCoins === 1 ? 'output' : 'outputs'}`,
      );
      print(`pending in:  ${formatCoins(BigInt(balance.pendingIn))}`);
      print(`pending out: ${formatCoins(BigInt(balance.pendingOut))}`);
      print(`available:   ${formatCoins(BigInt(balance.available))}`);
    });
}
