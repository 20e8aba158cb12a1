import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { Database } from '../storage/db.ts';
import {
  AUDIT_HEAD_KEY,
  AuditLog,
  auditKey,
  decodeEntry,
  encodeEntry,
  encodeEntryBody,
  hashEntryBody,
  verifyAuditLog,
} from './log.ts';

let dir: string;
let db: Database;
let clock: number;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'utxod-audit-'));
  db = await Database.open({ path: join(dir, 'db'), syncWrites: false });
  clock = 1_700_000_000_000;
});
afterEach(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

async function filled(n: number): Promise<AuditLog> {
  const log = await AuditLog.open({ now: () => clock++ }, { db });
  for (let i = 1; i <= n; i++)
    await log.append({
      actor: `actor-${i}`,
      action: 'admin.test',
      outcome: i % 2 === 0 ? 'success' : 'failure',
      details: { i, nested: { b: 2, a: 1 } },
    });
  return log;
}

async function raw(seq: number): Promise<Uint8Array> {
  const value = await db.get(auditKey(seq));
  assert.ok(value !== undefined);
  return value;
}

describe('audit log', () => {
  test('appends chain from a zero hash and verify accepts the chain', async () => {
    const log = await filled(5);
    const result = await verifyAuditLog(db);
    assert.equal(result.ok, true);
    assert.equal(result.entries, 5);
    assert.deepEqual(result.head, log.head);
    const first = decodeEntry(await raw(1));
    assert.deepEqual(first.prevHash, new Uint8Array(32));
    assert.deepEqual(decodeEntry(await raw(2)).prevHash, first.hash);
    assert.deepEqual(first.details, { i: 1, nested: { a: 1, b: 2 } });
  });

  test('concurrent appends are serialised: no two share a seq or a predecessor', async () => {
    const log = await AuditLog.open({}, { db });
    const entries = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        log.append({ actor: 'a', action: 'x', outcome: 'success', details: { i } }),
      ),
    );
    assert.deepEqual(
      entries.map((e) => e.seq),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    assert.equal((await verifyAuditLog(db)).ok, true);
  });

  test('a reopened log continues the chain', async () => {
    await filled(3);
    const reopened = await AuditLog.open({}, { db });
    const entry = await reopened.append({ actor: 'b', action: 'y', outcome: 'success' });
    assert.equal(entry.seq, 4);
    assert.equal((await verifyAuditLog(db)).ok, true);
  });

  test('pages forwards and backwards', async () => {
    const log = await filled(7);
    const page1 = await log.page({ limit: 3 });
    assert.deepEqual(
      page1.entries.map((e) => e.seq),
      [1, 2, 3],
    );
    assert.equal(page1.next, 4);
    const page3 = await log.page({ from: 7, limit: 3 });
    assert.deepEqual(
      page3.entries.map((e) => e.seq),
      [7],
    );
    assert.equal(page3.next, null);
    const desc = await log.page({ limit: 3, order: 'desc' });
    assert.deepEqual(
      desc.entries.map((e) => e.seq),
      [7, 6, 5],
    );
    assert.equal(desc.next, 4);
    const desc2 = await log.page({ from: 4, limit: 10, order: 'desc' });
    assert.deepEqual(
      desc2.entries.map((e) => e.seq),
      [4, 3, 2, 1],
    );
  });

  test('an edited entry is found: its hash no longer matches', async () => {
    await filled(5);
    const entry = decodeEntry(await raw(3));
    const edited = { ...entry, actor: 'someone-else' };
    await db.write([{ type: 'put', key: auditKey(3), value: encodeEntry(edited) }]);
    const result = await verifyAuditLog(db);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => [p.seq, p.kind]),
      [
        [3, 'hash-mismatch'],
        [4, 'broken-link'],
      ],
    );
  });

  test('an edited entry with a recomputed hash breaks the next link', async () => {
    await filled(5);
    const entry = decodeEntry(await raw(2));
    const body = { ...entry, outcome: 'success' as const, details: { forged: true } };
    const hash = hashEntryBody(encodeEntryBody(body));
    await db.write([{ type: 'put', key: auditKey(2), value: encodeEntry({ ...body, hash }) }]);
    const result = await verifyAuditLog(db);
    assert.deepEqual(
      result.problems.map((p) => [p.seq, p.kind]),
      [[3, 'broken-link']],
    );
  });

  test('a removed entry is found', async () => {
    await filled(5);
    await db.write([{ type: 'del', key: auditKey(3) }]);
    const result = await verifyAuditLog(db);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => [p.seq, p.kind]),
      [
        [4, 'gap'],
        [4, 'broken-link'],
      ],
    );
  });

  test('a removed tail is found through the head record', async () => {
    await filled(5);
    await db.write([
      { type: 'del', key: auditKey(5) },
      { type: 'del', key: auditKey(4) },
    ]);
    const result = await verifyAuditLog(db);
    assert.deepEqual(
      result.problems.map((p) => [p.seq, p.kind]),
      [[5, 'head-mismatch']],
    );
    // Appending afterwards does not paper over the hole.
    const log = await AuditLog.open({}, { db });
    assert.equal((await log.append({ actor: 'a', action: 'b', outcome: 'success' })).seq, 6);
    assert.equal((await verifyAuditLog(db)).ok, false);
  });

  test('a deleted head record is reported', async () => {
    await filled(2);
    await db.write([{ type: 'del', key: AUDIT_HEAD_KEY }]);
    const result = await verifyAuditLog(db);
    assert.deepEqual(
      result.problems.map((p) => p.kind),
      ['missing-head'],
    );
  });

  test('reordered entries are found', async () => {
    await filled(5);
    const [two, four] = [await raw(2), await raw(4)];
    await db.write([
      { type: 'put', key: auditKey(2), value: four },
      { type: 'put', key: auditKey(4), value: two },
    ]);
    const result = await verifyAuditLog(db);
    assert.equal(result.ok, false);
    const kinds = result.problems.map((p) => `${p.seq}:${p.kind}`);
    assert.ok(kinds.includes('2:seq-mismatch'), kinds.join(' '));
    assert.ok(kinds.includes('4:seq-mismatch'), kinds.join(' '));
    assert.ok(kinds.includes('2:broken-link'), kinds.join(' '));
  });

  test('garbage in an entry is reported, not thrown', async () => {
    await filled(3);
    await db.write([{ type: 'put', key: auditKey(2), value: Uint8Array.of(1, 2, 3) }]);
    const result = await verifyAuditLog(db);
    assert.deepEqual(
      result.problems.map((p) => [p.seq, p.kind]),
      [
        [2, 'undecodable'],
        [3, 'broken-link'],
      ],
    );
  });

  test('oversized details are replaced by a marker', async () => {
    const log = await AuditLog.open({}, { db });
    const entry = await log.append({
      actor: 'a',
      action: 'b',
      outcome: 'success',
      details: { blob: 'x'.repeat(20_000) },
    });
    assert.equal(entry.details['truncated'], true);
    assert.equal((await verifyAuditLog(db)).ok, true);
  });
});
