/**
 * Banned peers, persisted in LevelDB (bucket `peerBan`, 0x0d):
 * key = 0x0d + UTF-8 peer id, value = u64 bannedAt, u64 expiresAt (ms since
 * the epoch), varbytes UTF-8 reason (<= 256 bytes). Expired bans are ignored
 * and deleted on load. Used by the running node (through the connection
 * gater) and offline by `utxod peers`.
 */
import { peerIdFromString } from '@libp2p/peer-id';
import { decodeExact, Writer } from '../encoding/index.ts';
import type { Database } from '../storage/index.ts';
import { Bucket, bucketKey } from '../storage/index.ts';
import { type Clock, systemClock } from '../util/index.ts';
import { P2PError } from './errors.ts';

export const MAX_BAN_REASON_BYTES = 256;
/** Longest ban an operator may set: ten years. */
export const MAX_BAN_DURATION_MS = 10 * 365 * 86_400_000;

export interface BanRecord {
  readonly peerId: string;
  readonly bannedAt: number;
  readonly expiresAt: number;
  readonly reason: string;
}

/** Throws P2PError P2P_INVALID_PEER_ID unless `text` is a valid libp2p peer id; returns its canonical form. */
export function parsePeerId(text: string): string {
  try {
    return peerIdFromString(text).toString();
  } catch {
    throw new P2PError(
      'P2P_INVALID_PEER_ID',
      `not a peer id: ${JSON.stringify(text.slice(0, 80))}`,
    );
  }
}

function banKey(peerId: string): Uint8Array {
  return bucketKey(Bucket.peerBan, new TextEncoder().encode(peerId));
}

function truncateReason(reason: string): Uint8Array {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_BAN_REASON_BYTES) return bytes;
  return new TextEncoder().encode(
    new TextDecoder().decode(bytes.subarray(0, MAX_BAN_REASON_BYTES - 3)).replace(/\uFFFD$/, ''),
  );
}

export function encodeBan(record: BanRecord): Uint8Array {
  return new Writer(32)
    .u64(BigInt(record.bannedAt))
    .u64(BigInt(record.expiresAt))
    .varBytes(truncateReason(record.reason))
    .finish();
}

export function decodeBan(peerId: string, bytes: Uint8Array): BanRecord {
  return decodeExact(bytes, 'peer ban', (r) => {
    const bannedAt = Number(r.u64('bannedAt'));
    const expiresAt = Number(r.u64('expiresAt'));
    const reason = new TextDecoder().decode(r.varBytes(MAX_BAN_REASON_BYTES, 'reason'));
    return { peerId, bannedAt, expiresAt, reason };
  });
}

/** Active bans, soonest expiry first; expired or unreadable records are deleted. */
export async function listBans(db: Database, now = Date.now()): Promise<BanRecord[]> {
  const bans: BanRecord[] = [];
  const stale: Uint8Array[] = [];
  for await (const [key, value] of db.range(
    Uint8Array.of(Bucket.peerBan),
    Uint8Array.of(Bucket.peerBan + 1),
  )) {
    const peerId = new TextDecoder().decode(key.subarray(1));
    let record: BanRecord;
    try {
      record = decodeBan(peerId, value);
    } catch {
      stale.push(key);
      continue;
    }
    if (record.expiresAt <= now) stale.push(key);
    else bans.push(record);
  }
  if (stale.length > 0) await db.write(stale.map((key) => ({ type: 'del' as const, key })));
  return bans.sort((a, b) => a.expiresAt - b.expiresAt);
}

/** Bans `peerId` for `durationMs` (replacing any earlier ban). */
export async function banPeer(
  db: Database,
  peerId: string,
  durationMs: number,
  reason: string,
  now = Date.now(),
): Promise<BanRecord> {
  const id = parsePeerId(peerId);
  if (!Number.isSafeInteger(durationMs) || durationMs <= 0 || durationMs > MAX_BAN_DURATION_MS) {
    throw new P2PError(
      'P2P_INVALID_BAN',
      `ban duration must be 1 ms to ${MAX_BAN_DURATION_MS} ms, got ${durationMs}`,
    );
  }
  const record: BanRecord = { peerId: id, bannedAt: now, expiresAt: now + durationMs, reason };
  await db.write([{ type: 'put', key: banKey(id), value: encodeBan(record) }]);
  return decodeBan(id, encodeBan(record));
}

/** Lifts a ban; false when the peer was not banned. */
export async function unbanPeer(db: Database, peerId: string): Promise<boolean> {
  const id = parsePeerId(peerId);
  const key = banKey(id);
  const existing = await db.get(key);
  if (existing === undefined) return false;
  await db.write([{ type: 'del', key }]);
  return true;
}

/** In-memory view of the ban list for the connection gater, backed by the database. */
export class BanList {
  private readonly db: Database;
  private readonly bans = new Map<string, BanRecord>();
  private readonly clock: Pick<Clock, 'now'>;

  private constructor(db: Database, clock: Pick<Clock, 'now'>) {
    this.db = db;
    this.clock = clock;
  }

  static async init(modules: { db: Database; clock?: Pick<Clock, 'now'> }): Promise<BanList> {
    const list = new BanList(modules.db, modules.clock ?? systemClock);
    for (const record of await listBans(modules.db, list.clock.now()))
      list.bans.set(record.peerId, record);
    return list;
  }

  isBanned(peerId: string): boolean {
    const record = this.bans.get(peerId);
    if (record === undefined) return false;
    if (record.expiresAt > this.clock.now()) return true;
    this.bans.delete(peerId);
    return false;
  }

  async ban(peerId: string, durationMs: number, reason: string): Promise<BanRecord> {
    const record = await banPeer(this.db, peerId, durationMs, reason, this.clock.now());
    this.bans.set(record.peerId, record);
    return record;
  }

  async unban(peerId: string): Promise<boolean> {
    const id = parsePeerId(peerId);
    this.bans.delete(id);
    return unbanPeer(this.db, id);
  }

  async list(): Promise<BanRecord[]> {
    const records = await listBans(this.db, this.clock.now());
    this.bans.clear();
    for (const record of records) this.bans.set(record.peerId, record);
    return records;
  }
}
