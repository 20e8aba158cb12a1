import type { Command } from 'commander';
import { formatCoins } from '../../primitives/index.ts';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { print } from '../shared.ts';

export function registerTx(program: Command): void {
  withRpcOptions(
    program
      .command('tx')
      .description('a transaction and its status: mempool, committed at a height, or unknown')
      .argument('<txid>', 'transaction id (64 hex characters)'),
  )
    .option('--json', 'print the API response as JSON')
    .action(async (txid: string, flags: RpcFlags & { json?: boolean }) => {
      const status = await rpcClient(flags).tx(txid);
      if (flags.json === true) return print(JSON.stringify(status, null, 2));
      print(`txid:    ${status.txid}`);
      if (status.status === 'committed')
        print(
          `status:  committed at height ${status.height} (${status.confirmations} confirmations)`,
        );
      else print(`status:  ${status.status}`);
      if (status.fee !== undefined) print(`fee:     ${formatCoins(BigInt(status.fee))}`);
      for (const output of status.tx?.outputs ?? [])
        print(`output ${output.index}: ${formatCoins(BigInt(output.amount))} to ${output.address}`);
      if (status.status === 'unknown') process.exitCode = 2;
    });
}
