import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import type { Command } from 'commander';
import { dataPaths, isInitialised } from '../../node/index.ts';
import { loadOrCreatePeerKey } from '../../p2p/identity.ts';
import {
  banPeer,
  identityPath,
  listBans,
  MAX_BAN_DURATION_MS,
  unbanPeer,
} from '../../p2p/index.ts';
import { Database } from '../../storage/index.ts';
import { datadirOption, print } from '../shared.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "12h", "7d" or plain milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,12})(ms|s|m|h|d)?$/.exec(text.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * UNITS[match[2] ?? 'ms']!;
  if (!Number.isSafeInteger(ms) || ms <= 0 || ms > MAX_BAN_DURATION_MS) {
    throw new Error(
      `--duration must be like 90s, 30m, 12h or 7d (at most 10 years), got "${text}"`,
    );
  }
  return ms;
}

/** The ban list lives in the chain database: the node must be stopped (LevelDB takes a lock). */
async function withDb<T>(datadir: string, fn: (db: Database) => Promise<T>): Promise<T> {
  if (!isInitialised(datadir)) throw new Error(`${datadir} is not an initialised data directory`);
  const db = await Database.open({ path: dataPaths(datadir).chainDb, syncWrites: true });
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
      "this node's peer id and its ban list (ban commands need the node stopped; a running node offers them as admin API routes)",
    );

  peers
    .command('id')
    .description("print this node's libp2p peer id (creates the identity key if missing)")
    .addOption(datadirOption())
    .action(async (opts: { datadir: string }) => {
      const { key } = await loadOrCreatePeerKey(identityPath(opts.datadir));
      print(peerIdFromPrivateKey(key).toString());
    });

  peers
    .command('list')
    .description('list banned peers with their expiry and reason')
    .addOption(datadirOption())
    .option('--json', 'print JSON')
    .action(async (opts: { datadir: string; json?: boolean }) => {
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
      const ban = await withDb(opts.datadir, (db) => banPeer(db, peerId, durationMs, opts.reason));
      print(`banned ${ban.peerId} until ${new Date(ban.expiresAt).toISOString()}`);
    });

  peers
    .command('unban')
    .description('lift a ban')
    .argument('<peerId>', 'libp2p peer id')
    .addOption(datadirOption())
    .action(async (peerId: string, opts: { datadir: string }) => {
      const removed = await withDb(opts.datadir, (db) => unbanPeer(db, peerId));
      print(removed ? `unbanned ${peerId}` : `${peerId} was not banned`);
    });
}
