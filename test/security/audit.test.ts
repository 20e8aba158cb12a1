/**
 * The audit log under a scanner's flood of anonymous 401s (real server on
 * loopback, real LevelDB), and retention by pruning behind a checkpoint that
 * keeps the rest of the hash chain verifiable.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AuditLog, auditKey, verifyAuditLog } from '../../src/audit/log.ts';
import { Database } from '../../src/storage/db.ts';
import { startSecureApi } from '../support/secure-api.ts';

describe('audit: anonymous noise', { timeout: 60_000 }, () => {
  it('200 anonymous 401s from one address leave a handful of entries; a 403 is always kept', async () => {
    const f = await startSecureApi();
    try {
      const before = f.auth.audit.head.seq;
      for (let i = 0; i < 200; i++)
        assert.equal((await f.call('GET', '/api/v1/mempool', { from: '127.0.0.9' })).status, 401);
      const forbidden = await f.call('GET', '/api/v1/admin/audit', {
        token: f.token('nosy', 'reader'),
      });
      assert.equal(forbidden.status, 403);
      await f.auth.audit.flush();
      const written = f.auth.audit.head.seq - before;
      assert.ok(written <= 6, `${written} entries for 200 anonymous refusals and one 403`);
      const page = await f.auth.audit.page({ from: before + 1, limit: 50 });
      assert.ok(page.entries.some((e) => e.actor === 'nosy' && e.action === 'auth.denied'));
    } finally {
      await f.close();
    }
    // The summary is written when the window ends (here: at close).
  });
});

describe('audit: retention', { timeout: 30_000 }, () => {
  it('prunes old entries behind a checkpoint; the rest still verifies and tampering still shows', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'utxod-audit-'));
    const db = await Database.open({ path: join(dir, 'db'), syncWrites: false });
    try {
      const clock = { now: Date.UTC(2026, 0, 1) };
      const log = await AuditLog.open({ now: () => clock.now }, { db });
      for (let i = 0; i < 10; i++) {
        await log.append({ actor: 'a', action: `old.${i}`, outcome: 'success' });
        clock.now += 1000;
      }
      clock.now += 100 * 86_400_000;
      for (let i = 0; i < 5; i++)
        await log.append({ actor: 'a', action: `new.${i}`, outcome: 'success' });
      const { pruned, checkpoint } = await log.prune(90 * 86_400_000);
      assert.equal(pruned, 10);
      assert.equal(checkpoint, 10);
      const result = await verifyAuditLog(db);
      assert.deepEqual(result.problems, []);
      assert.equal(result.entries, 5);
      // Appends continue the chain, and a reopened log continues it too.
      await log.append({ actor: 'a', action: 'after', outcome: 'success' });
      const reopened = await AuditLog.open({ now: () => clock.now }, { db });
      await reopened.append({ actor: 'a', action: 'after.reopen', outcome: 'success' });
      assert.ok((await verifyAuditLog(db)).ok);
      // Removing the first kept entry is still detected.
      await db.write([{ type: 'del', key: auditKey(11) }]);
      assert.equal((await verifyAuditLog(db)).ok, false);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
