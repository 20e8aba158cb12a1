import { type Command, Option } from 'commander';
import { DEFAULT_RPC_URL, RpcClient } from '../client/rpc-client.ts';

export interface RpcFlags {
  rpc: string;
  token?: string;
}

/** --rpc URL and --token T (env UTXOD_RPC, UTXOD_TOKEN) for the commands that talk to a node. */
export function withRpcOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--rpc <url>', 'node API base URL (env UTXOD_RPC)').default(
        process.env['UTXOD_RPC'] ?? DEFAULT_RPC_URL,
      ),
    )
    .addOption(new Option('--token <token>', 'API bearer token (env UTXOD_TOKEN)'));
}

export function rpcClient(flags: RpcFlags): RpcClient {
  const token = flags.token ?? process.env['UTXOD_TOKEN'];
  return new RpcClient({ url: flags.rpc, ...(token === undefined ? {} : { token }) });
}
