import { existsSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { RpcClient } from '../client/index.ts';
import { CliError, datadirOption, defaultDatadir, requireDatadir } from './shared.ts';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8645';

export interface RpcFlags {
  rpc?: string;
  token?: string;
  datadir: string;
}

/** A base URL, or a CliError naming where the bad value came from. */
export function parseRpcUrl(value: string, source = '--rpc'): string {
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // Reported below with the flag's name; the URL parser's own message names neither.
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new CliError(
      'USAGE',
      `${source} must be a node's http(s) URL like ${DEFAULT_RPC_URL}, got "${value}"`,
    );
  return value.replace(/\/+$/, '');
}

/**
 * --rpc URL, --token T and --datadir DIR for the commands that talk to a node.
 * Without --rpc the node running on --datadir is found through its cookie.
 */
export function withRpcOptions(command: Command): Command {
  return command
    .addOption(
      new Option(
        '--rpc <url>',
        `node API base URL (env UTXOD_RPC; default: the node running on --datadir, else ${DEFAULT_RPC_URL})`,
      ).argParser((value) => parseRpcUrl(value)),
    )
    .addOption(
      new Option(
        '--token <token>',
        'API bearer token for a remote node (env UTXOD_TOKEN); not needed for a node whose data directory you can read',
      ),
    )
    .addOption(datadirOption());
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The client for a command. Authentication, in order: --token, UTXOD_TOKEN, and
 * for a node on this machine a short-lived token signed with the signing key
 * of --datadir (readable only by the node's user), like bitcoin-cli's cookie.
 */
export async function rpcClient(flags: RpcFlags, role: 'reader' | 'operator' | 'admin' = 'reader') {
  const { RpcClient } = await import('../client/rpc-client.ts');
  const { url, token } = await rpcEndpoint(flags, role);
  return new NodeClient(new RpcClient({ url, ...(token === undefined ? {} : { token }) }), flags);
}

/** The node's API URL and the token to send it, resolved as `rpcClient` does (for raw requests). */
export async function rpcEndpoint(
  flags: RpcFlags,
  role: 'reader' | 'operator' | 'admin' = 'reader',
): Promise<{ url: string; token: string | undefined }> {
  const { readCookie, mintLocalToken } = await import('../api/auth/cookie.ts');
  const env = process.env['UTXOD_RPC'];
  // An explicit --datadir that is not there gets the same answer as in every other command.
  if (
    flags.rpc === undefined &&
    (env === undefined || env === '') &&
    flags.datadir !== defaultDatadir() &&
    !existsSync(flags.datadir)
  )
    requireDatadir(flags.datadir);
  const cookie = readCookie(flags.datadir);
  const url =
    flags.rpc ??
    (env !== undefined && env !== '' ? parseRpcUrl(env, 'UTXOD_RPC') : undefined) ??
    (cookie === null
      ? DEFAULT_RPC_URL
      : cookie.url.replace(/\/\/(0\.0\.0\.0|\[::\])/, '//127.0.0.1'));
  let token = flags.token ?? process.env['UTXOD_TOKEN'];
  if (token === '') token = undefined;
  // A local token goes only to this machine: never to a remote --rpc.
  if (token === undefined && LOOPBACK.has(new URL(url).hostname))
    token = mintLocalToken(flags.datadir, { role }) ?? undefined;
  return { url, token };
}

/** Runs API calls and turns the failures a user can fix into one line saying what to do. */
export class NodeClient {
  readonly api: RpcClient;
  private readonly flags: RpcFlags;

  constructor(api: RpcClient, flags: RpcFlags) {
    this.api = api;
    this.flags = flags;
  }

  async call<T>(fn: (api: RpcClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.api);
    } catch (error) {
      throw explainRpcError(error, this.api.url, this.flags);
    }
  }
}

export function explainRpcError(error: unknown, url: string, flags: RpcFlags): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'AUTH_MISSING' || code === 'AUTH_TOKEN_EXPIRED' || code === 'AUTH_TOKEN_INVALID') {
    const why =
      code === 'AUTH_MISSING'
        ? `the node at ${url} needs a token for this`
        : `the node at ${url} refused the token (${(error as Error).message})`;
    return new CliError(
      'AUTH_MISSING',
      `${why}. On the node's machine, run utxod as the user that runs the node, with --datadir DIR of that node (now ${flags.datadir}); ` +
        'for a remote node pass --token TOKEN or set UTXOD_TOKEN (an admin mints one with `utxod token issue --role reader`).',
      { url },
    );
  }
  if (code === 'RPC_UNREACHABLE')
    return new CliError(
      'NODE_UNREACHABLE',
      `no node answers at ${url}: start one with \`utxod start\`, or pass --rpc URL (or --datadir DIR of the running node)`,
      { url },
    );
  return error;
}
