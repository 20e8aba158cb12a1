import type { Logger } from 'pino';
import { taggedHash } from '../crypto/index.ts';
import { Reader, Writer } from '../encoding/index.ts';
import type { Database } from '../storage/index.ts';
import { Bucket } from '../storage/index.ts';
import { SerialQueue, toHex } from '../util/index.ts';

/** The hash an entry commits to (docs/auth.md "Audit log"). */
export const AUDIT_TAG = 'utxod/audit-entry';
const ENTRY_VERSION = 1;
const ZERO_HASH = new Uint8Array(32);
/** Details above this (canonical JSON, bytes) are replaced by a marker, so one entry stays small. */
const MAX_DETAILS_BYTES = 8192;
const MAX_TEXT_BYTES = 512;

export type AuditOutcome = 'success' | 'failure';

export interface AuditEvent {
  /** Who: a token subject ("key:<id>", "cli"), or "anonymous" / "ip:<addr>" before authentication. */
  readonly actor: string;
  /** What, as a dotted name ("auth.token", "admin.api-key.create") or "METHOD /route". */
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly details?: Record<string, unknown>;
}

export interface AuditEntry {
  readonly seq: number;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly actor: string;
  readonly action: string;
  readonly outcome: AuditOutcome;
  readonly details: Record<string, unknown>;
  readonly prevHash: Uint8Array;
  readonly hash: Uint8Array;
}

/** Key of entry `seq`: the bucket byte and the sequence as u64 big-endian, so keys sort by seq. */
export function auditKey(seq: number): Uint8Array {
  const key = new Uint8Array(9);
  key[0] = Bucket.audit;
  new DataView(key.buffer).setBigUint64(1, BigInt(seq), false);
  return key;
}

/**
 * The head record (last seq and hash) lives at the bare bucket byte: it sorts
 * before every entry key, so entry scans never see it, and it is written in
 * the same batch as each entry, which lets verification notice a cut-off tail.
 */
export const AUDIT_HEAD_KEY = Uint8Array.of(Bucket.audit);
/**
 * The checkpoint left by pruning: seq and hash of the last entry removed. It
 * sorts between the head and the first entry key, so entry scans skip it; the
 * first entry kept must link to its hash, so the kept chain stays verifiable.
 */
export const AUDIT_CHECKPOINT_KEY = Uint8Array.of(Bucket.audit, 0x00);
/** Default retention of audit entries (docs/auth.md "Audit log"). */
export const AUDIT_RETENTION_MS = 90 * 86_400_000;
const FIRST_KEY = auditKey(0);
const END_KEY = Uint8Array.of(Bucket.audit + 1);

/** JSON with object keys sorted at every level: one byte string per value. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** The canonical bytes an entry's hash covers. */
export function encodeEntryBody(entry: Omit<AuditEntry, 'hash'>): Uint8Array {
  return new Writer()
    .u8(ENTRY_VERSION)
    .u64(BigInt(entry.seq))
    .u64(BigInt(entry.time))
    .varBytes(encoder.encode(entry.actor))
    .varBytes(encoder.encode(entry.action))
    .varBytes(encoder.encode(entry.outcome))
    .varBytes(encoder.encode(canonicalJson(entry.details)))
    .bytes(entry.prevHash)
    .finish();
}

export function hashEntryBody(body: Uint8Array): Uint8Array {
  return taggedHash(AUDIT_TAG, body);
}

/** Stored value: the canonical body followed by its 32-byte hash. */
export function encodeEntry(entry: AuditEntry): Uint8Array {
  const body = encodeEntryBody(entry);
  const out = new Uint8Array(body.length + 32);
  out.set(body, 0);
  out.set(entry.hash, body.length);
  return out;
}

/** Parses a stored value; `hash` is the stored one, `computedHash` what the body hashes to. */
export function decodeEntry(value: Uint8Array): AuditEntry & { computedHash: Uint8Array } {
  if (value.length < 32) throw new Error('entry shorter than its hash');
  const body = value.subarray(0, value.length - 32);
  const r = new Reader(body, 'audit entry');
  const version = r.u8('version');
  if (version !== ENTRY_VERSION) throw new Error(`unknown entry version ${version}`);
  const seq = Number(r.u64('seq'));
  const time = Number(r.u64('time'));
  const actor = decoder.decode(r.varBytes(MAX_TEXT_BYTES * 4, 'actor'));
  const action = decoder.decode(r.varBytes(MAX_TEXT_BYTES * 4, 'action'));
  const outcome = decoder.decode(r.varBytes(16, 'outcome'));
  if (outcome !== 'success' && outcome !== 'failure') throw new Error(`bad outcome ${outcome}`);
  const details = JSON.parse(
    decoder.decode(r.varBytes(MAX_DETAILS_BYTES * 4, 'details')),
  ) as Record<string, unknown>;
  const prevHash = Uint8Array.from(r.bytes(32, 'prevHash'));
  r.end();
  return {
    seq,
    time,
    actor,
    action,
    outcome,
    details,
    prevHash,
    hash: Uint8Array.from(value.subarray(value.length - 32)),
    computedHash: hashEntryBody(body),
  };
}

function encodeHead(seq: number, hash: Uint8Array): Uint8Array {
  return new Writer().u64(BigInt(seq)).bytes(hash).finish();
}

export function decodeHead(value: Uint8Array): { seq: number; hash: Uint8Array } {
  const r = new Reader(value, 'audit head');
  const seq = Number(r.u64('seq'));
  const hash = Uint8Array.from(r.bytes(32, 'hash'));
  r.end();
  return { seq, hash };
}

function clip(text: string): string {
  const bytes = encoder.encode(text);
  return bytes.length <= MAX_TEXT_BYTES
    ? text
    : decoder.decode(bytes.subarray(0, MAX_TEXT_BYTES)).replace(/\uFFFD$/, '');
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  /** The seq to pass as `from` for the next page, or null at the end. */
  readonly next: number | null;
}

/**
 * Append-only, hash-chained log of security events in LevelDB (Bucket.audit).
 * Each entry's hash covers its canonical encoding, which includes the previous
 * entry's hash, so changing, removing or reordering any entry breaks the chain
 * from there on (`verifyAuditLog`). Appends are queued and written one at a
 * time: two concurrent appends can never claim the same seq or previous hash.
 */
export class AuditLog {
  private readonly db: Database;
  private readonly now: () => number;
  private readonly logger: Logger | null;
  private lastSeq: number;
  private lastHash: Uint8Array;
  private readonly queue = new SerialQueue();

  private constructor(
    opts: { now?: () => number },
    modules: { db: Database; logger?: Logger },
    head: { seq: number; hash: Uint8Array },
  ) {
    this.db = modules.db;
    this.now = opts.now ?? Date.now;
    this.logger = modules.logger ?? null;
    this.lastSeq = head.seq;
    this.lastHash = head.hash;
  }

  static async open(
    opts: { now?: () => number },
    modules: { db: Database; logger?: Logger },
  ): Promise<AuditLog> {
    const rawHead = await modules.db.get(AUDIT_HEAD_KEY);
    let head = rawHead === undefined ? null : decodeHead(rawHead);
    for await (const [key, value] of modules.db.range(FIRST_KEY, END_KEY, {
      reverse: true,
      limit: 1,
    })) {
      const keySeq = Number(new DataView(key.buffer, key.byteOffset).getBigUint64(1, false));
      // Continue after whichever is further on: appending below a recorded
      // head would overwrite the evidence that the tail went missing.
      if (head === null || keySeq > head.seq)
        head = { seq: keySeq, hash: decodeEntry(value).computedHash };
    }
    return new AuditLog(opts, modules, head ?? { seq: 0, hash: ZERO_HASH });
  }

  get head(): { seq: number; hash: string } {
    return { seq: this.lastSeq, hash: toHex(this.lastHash) };
  }

  append(event: AuditEvent): Promise<AuditEntry> {
    return this.queue.run(() => this.write(event));
  }

  /** Resolves once every append queued so far is written. */
  flush(): Promise<void> {
    return this.queue.idle();
  }

  /** Appends and only logs a failure: for callers that must answer the request regardless. */
  record(event: AuditEvent): void {
    this.append(event).catch((error: unknown) => {
      this.logger?.error(
        { err: error, event: 'audit-append-failed', action: event.action },
        'could not append to the audit log',
      );
    });
  }

  /**
   * Deletes entries older than `olderThanMs` (by their time; at most up to the
   * newest entry, which is always kept) and records a checkpoint (seq and hash
   * of the last one deleted) in the same batch. Runs in the append queue.
   */
  prune(olderThanMs: number): Promise<{ pruned: number; checkpoint: number | null }> {
    return this.queue.run(async () => {
      const cutoff = this.now() - olderThanMs;
      const dels: Uint8Array[] = [];
      let last: { seq: number; hash: Uint8Array } | null = null;
      for await (const [key, value] of this.db.range(FIRST_KEY, auditKey(this.lastSeq))) {
        const entry = decodeEntry(value);
        if (entry.time >= cutoff) break;
        dels.push(key);
        last = { seq: entry.seq, hash: entry.computedHash };
      }
      if (last === null) return { pruned: 0, checkpoint: null };
      await this.db.write([
        ...dels.map((key) => ({ type: 'del' as const, key })),
        { type: 'put', key: AUDIT_CHECKPOINT_KEY, value: encodeHead(last.seq, last.hash) },
      ]);
      return { pruned: dels.length, checkpoint: last.seq };
    });
  }

  /** Entries from seq `from` on (or down, with order 'desc'), at most `limit`. */
  async page(opts: { from?: number; limit: number; order?: 'asc' | 'desc' }): Promise<AuditPage> {
    const desc = opts.order === 'desc';
    const entries: AuditEntry[] = [];
    const range = desc
      ? this.db.range(FIRST_KEY, auditKey((opts.from ?? Number.MAX_SAFE_INTEGER - 1) + 1), {
          reverse: true,
          limit: opts.limit + 1,
        })
      : this.db.range(auditKey(opts.from ?? 0), END_KEY, { limit: opts.limit + 1 });
    for await (const [, value] of range) {
      const { computedHash: _computed, ...entry } = decodeEntry(value);
      entries.push(entry);
    }
    const extra = entries.length > opts.limit ? entries.pop() : undefined;
    return { entries, next: extra === undefined ? null : extra.seq };
  }

  private async write(event: AuditEvent): Promise<AuditEntry> {
    let details = event.details ?? {};
    const size = encoder.encode(canonicalJson(details)).length;
    if (size > MAX_DETAILS_BYTES) details = { truncated: true, originalBytes: size };
    const body = {
      seq: this.lastSeq + 1,
      time: this.now(),
      actor: clip(event.actor),
      action: clip(event.action),
      outcome: event.outcome,
      // Round-tripped so the entry returned equals what a reader decodes.
      details: JSON.parse(canonicalJson(details)) as Record<string, unknown>,
      prevHash: this.lastHash,
    };
    const hash = hashEntryBody(encodeEntryBody(body));
    const entry: AuditEntry = { ...body, hash };
    await this.db.write([
      { type: 'put', key: auditKey(entry.seq), value: encodeEntry(entry) },
      { type: 'put', key: AUDIT_HEAD_KEY, value: encodeHead(entry.seq, hash) },
    ]);
    this.lastSeq = entry.seq;
    this.lastHash = hash;
    return entry;
  }
}

export interface AuditProblem {
  /** The seq (key) where the problem shows. */
  readonly seq: number;
  readonly kind:
    | 'undecodable'
    | 'hash-mismatch'
    | 'seq-mismatch'
    | 'gap'
    | 'broken-link'
    | 'head-mismatch'
    | 'missing-head';
  readonly message: string;
}

export interface AuditVerifyResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly head: { seq: number; hash: string } | null;
  readonly problems: AuditProblem[];
}

/**
 * Walks the whole chain and reports every place it does not hold: an entry
 * whose content no longer matches its hash (edited), whose key and seq differ
 * (moved), a missing seq (removed), an entry not linked to its predecessor's
 * hash (a neighbour edited, removed or reordered), or a head that disagrees
 * with the last entry (tail cut off).
 */
export async function verifyAuditLog(
  db: Database,
  opts: { maxProblems?: number } = {},
): Promise<AuditVerifyResult> {
  const maxProblems = opts.maxProblems ?? 1000;
  const problems: AuditProblem[] = [];
  const report = (p: AuditProblem) => {
    if (problems.length < maxProblems) problems.push(p);
  };
  let expectedSeq = 1;
  let prevHash: Uint8Array = ZERO_HASH;
  const rawCheckpoint = await db.get(AUDIT_CHECKPOINT_KEY);
  if (rawCheckpoint !== undefined) {
    try {
      const checkpoint = decodeHead(rawCheckpoint);
      expectedSeq = checkpoint.seq + 1;
      prevHash = checkpoint.hash;
    } catch {
      report({ seq: 0, kind: 'undecodable', message: 'the pruning checkpoint cannot be decoded' });
    }
  }
  let entries = 0;
  let last: { seq: number; hash: Uint8Array } | null = null;
  for await (const [key, value] of db.range(FIRST_KEY, END_KEY)) {
    entries++;
    const keySeq =
      key.length === 9
        ? Number(new DataView(key.buffer, key.byteOffset).getBigUint64(1, false))
        : -1;
    if (keySeq > expectedSeq)
      report({
        seq: keySeq,
        kind: 'gap',
        message: `entries ${expectedSeq}..${keySeq - 1} are missing`,
      });
    let entry: ReturnType<typeof decodeEntry>;
    try {
      entry = decodeEntry(value);
    } catch (error) {
      report({
        seq: keySeq,
        kind: 'undecodable',
        message: `cannot decode: ${(error as Error).message}`,
      });
      expectedSeq = keySeq + 1;
      prevHash = new Uint8Array(32).fill(0xff);
      continue;
    }
    if (!equal(entry.hash, entry.computedHash))
      report({
        seq: keySeq,
        kind: 'hash-mismatch',
        message: 'content does not match its stored hash (edited)',
      });
    if (entry.seq !== keySeq)
      report({
        seq: keySeq,
        kind: 'seq-mismatch',
        message: `holds entry ${entry.seq} (moved or reordered)`,
      });
    if (!equal(entry.prevHash, prevHash))
      report({
        seq: keySeq,
        kind: 'broken-link',
        message: `does not link to the entry before it (${keySeq - 1} edited, removed or reordered)`,
      });
    prevHash = entry.computedHash;
    expectedSeq = keySeq + 1;
    last = { seq: keySeq, hash: entry.computedHash };
  }
  const rawHead = await db.get(AUDIT_HEAD_KEY);
  let head: { seq: number; hash: Uint8Array } | null = null;
  if (rawHead !== undefined) {
    try {
      head = decodeHead(rawHead);
    } catch {
      report({
        seq: last?.seq ?? 0,
        kind: 'head-mismatch',
        message: 'head record cannot be decoded',
      });
    }
  }
  // Everything pruned but the head: the head must be the checkpoint itself.
  if (last === null && rawCheckpoint !== undefined && expectedSeq > 1)
    last = { seq: expectedSeq - 1, hash: prevHash };
  if (head === null && last !== null && rawHead === undefined)
    report({
      seq: last.seq,
      kind: 'missing-head',
      message: 'entries exist but the head record is gone',
    });
  if (head !== null) {
    if (last === null || head.seq !== last.seq)
      report({
        seq: head.seq,
        kind: 'head-mismatch',
        message: `head says the last entry is ${head.seq}, the log ends at ${last?.seq ?? 0} (tail removed?)`,
      });
    else if (!equal(head.hash, last.hash))
      report({
        seq: head.seq,
        kind: 'head-mismatch',
        message: 'last entry does not match the head hash (edited)',
      });
  }
  return {
    ok: problems.length === 0,
    entries,
    head: last === null ? null : { seq: last.seq, hash: toHex(last.hash) },
    problems,
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
