import type { Command } from 'commander';
import { type RpcFlags, rpcClient, withRpcOptions } from '../rpc-options.ts';
import { CliError, datadirOption, print, requireDatadir } from '../shared.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** p2p's MAX_BAN_DURATION_MS, repeated so that parsing a flag does not load libp2p. */
const MAX_BAN_DURATION_MS = 10 * 365 * 86_400_000;

/** "90s", "30m", "12h", "7d" or plain milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_BAN_DURATION_MS) {
    throw new CliError(
      'USAGE',
      `--duration must be like 90s, 30m, 12h or 7d (at most 10 years), got "${text}"`,
    );
  }
  return ms;
}

/** The ban list lives in the chain database: the node must be stopped (LevelDB takes a lock). */
async function withDb<T>(
  datadir: string,
  fn: (db: import('../../storage/db.ts').Database) => Promise<T>,
): Promise<T> {
  requireDatadir(datadir);
  const { openDatabase } = await import('../offline.ts');
  let db: import('../../storage/db.ts').Database;
  try {
    db = await openDatabase(datadir);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'DB_LOCKED')
      throw new CliError(
        'USAGE',
        `the node on ${datadir} is running: stop it first, or use the admin API (POST /api/v1/admin/peers/ID/ban, docs/api.md)`,
      );
    throw error;
  }
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export function registerPeers(program: Command): void {
  const peers = program
    .command('peers')
    .description(
      "this node's peer id, its connected peers and its ban list (ban commands need the node stopped; a running node offers them as admin API routes)",
    );

  peers
    .command('id')
    .description("print this node's libp2p peer id (creates the identity key if missing)")
    .addOption(datadirOption())
    .action(async (opts: { datadir: string }) => {
      requireDatadir(opts.datadir);
      const { peerIdFromPrivateKey } = await import('@libp2p/peer-id');
      const { loadOrCreatePeerKey } = await import('../../p2p/identity.ts');
      const { identityPath } = await import('../../p2p/index.ts');
      const { key } = await loadOrCreatePeerKey(identityPath(opts.datadir));
      print(peerIdFromPrivateKey(key).toString());
    });

  withRpcOptions(
    peers
      .command('list')
      .description('the peers a running node is connected to, with direction, score and tip'),
  )
    .option('--json', 'print JSON')
    .action(async (flags: RpcFlags & { json?: boolean }) => {
      const node = await rpcClient(flags, 'admin');
      const { peers: list } = await node.call((api) => api.peers());
      if (flags.json === true) return print(JSON.stringify(list, null, 2));
      if (list.length === 0) return print('no connected peers');
      for (const peer of list) {
        const tip = peer.status === null ? 'no handshake yet' : `tip ${peer.status.tipHeight}`;
        print(
          `${peer.peerId}  ${peer.direction.padEnd(8)}  ${peer.remoteAddr}  score ${peer.score}  ${tip}`,
        );
      }
    });

  peers
    .command('bans')
    .description('list banned peers with their expiry and reason (the node must be stopped)')
    .addOption(datadirOption())
    .option('--json', 'print JSON')
    .action(async (opts: { datadir: string; json?: boolean }) => {
      const { listBans } = await import('../../p2p/index.ts');
      const bans = await withDb(opts.datadir, (db) => listBans(db));
      if (opts.json === true) {
        print(JSON.stringify(bans, null, 2));
        return;
      }
      if (bans.length === 0) {
        print('no banned peers');
        return;
      }
      for (const ban of bans) {
        print(`${ban.peerId}  until ${new Date(ban.expiresAt).toISOString()}  ${ban.reason}`);
      }
    });

  peers
    .command('ban')
    .description('ban a peer (it is refused and disconnected until the ban expires)')
    .argument('<peerId>', 'libp2p peer id, e.g. 12D3KooW...')
    .addOption(datadirOption())
    .option('--duration <time>', 'how long: 90s, 30m, 12h, 7d', '1d')
    .option('--reason <text>', 'recorded with the ban', 'operator')
    .action(async (peerId: string, opts: { datadir: string; duration: string; reason: string }) => {
      const durationMs = parseDuration(opts.duration);
      const { banPeer } = await import('../../p2p/index.ts');
      const ban = await withDb(opts.datadir, (db) => banPeer(db, peerId, durationMs, opts.reason));
      print(`banned ${ban.peerId} until ${new Date(ban.expiresAt).toISOString()}`);
    });

  peers
    .command('unban')
    .description('lift a ban')
    .argument('<peerId>', 'libp2p peer id')
    .addOption(datadirOption())
    .action(async (peerId: string, opts: { datadir: string }) => {
      const { unbanPeer } = await import('../../p2p/index.ts');
      const removed = await withDb(opts.datadir, (db) => unbanPeer(db, peerId));
      print(removed ? `unbanned ${peerId}` : `${peerId} was not banned`);
    });
}
