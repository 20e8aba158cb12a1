import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Bucket, Database } from '../storage/index.ts';
import { bytesKey } from '../util/index.ts';
import { carryNodeRecords, installStateSyncedChain, stateSyncTarget } from './snapshots.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-install-'));
const key = (bucket: number, ...rest: number[]) => Uint8Array.of(bucket, ...rest);

async function writeDb(path: string, records: Array<[Uint8Array, Uint8Array]>): Promise<void> {
  const db = await Database.open({ path, syncWrites: false });
  await db.write(records.map(([k, value]) => ({ type: 'put' as const, key: k, value })));
  await db.close();
}

async function readAll(path: string): Promise<Map<string, string>> {
  const db = await Database.open({ path, syncWrites: false });
  const out = new Map<string, string>();
  for await (const [k, v] of db.range(Uint8Array.of(0), Uint8Array.of(0xff)))
    out.set(bytesKey(k), bytesKey(v));
  await db.close();
  return out;
}

describe('installStateSyncedChain', () => {
  after(() => rmSync(root, { recursive: true, force: true }));

  it('replaces the genesis-only chain and keeps its audit log, API auth records and peer bans', async () => {
    const chainDb = join(root, 'a', 'chain');
    mkdirSync(join(root, 'a'));
    // The genesis-only database: chain records (dropped) and node-local ones (kept).
    await writeDb(chainDb, [
      [key(Bucket.meta, 1), Uint8Array.of(1)],
      [key(Bucket.block, 1), Uint8Array.of(2)],
      [key(Bucket.audit, 0, 1), Uint8Array.of(3)],
      [key(Bucket.auth, 1, 9), Uint8Array.of(4)],
      [key(Bucket.peerBan, 7), Uint8Array.of(5)],
    ]);
    // What state sync built: the snapshot's chain.
    await writeDb(stateSyncTarget(chainDb), [
      [key(Bucket.meta, 1), Uint8Array.of(10)],
      [key(Bucket.coin, 1), Uint8Array.of(11)],
    ]);
    assert.equal(await installStateSyncedChain(chainDb), true);
    assert.equal(existsSync(stateSyncTarget(chainDb)), false);
    const records = await readAll(chainDb);
    const expect = (k: Uint8Array, v: number) =>
      assert.equal(records.get(bytesKey(k)), bytesKey(Uint8Array.of(v)));
    expect(key(Bucket.meta, 1), 10);
    expect(key(Bucket.coin, 1), 11);
    expect(key(Bucket.audit, 0, 1), 3);
    expect(key(Bucket.auth, 1, 9), 4);
    expect(key(Bucket.peerBan, 7), 5);
    assert.equal(records.has(bytesKey(key(Bucket.block, 1))), false);
    assert.equal(records.size, 5);
    // Nothing left to install at the next start.
    assert.equal(await installStateSyncedChain(chainDb), false);
  });

  it('copying twice (a crash in the middle of the first copy) gives the same records', async () => {
    const from = join(root, 'b-from');
    const to = join(root, 'b-to');
    const many: Array<[Uint8Array, Uint8Array]> = [];
    for (let i = 0; i < 2500; i++)
      many.push([key(Bucket.audit, i >> 8, i & 0xff), Uint8Array.of(i & 0xff)]);
    await writeDb(from, many);
    await writeDb(to, [[key(Bucket.coin, 1), Uint8Array.of(1)]]);
    assert.equal(await carryNodeRecords(from, to), 2500);
    assert.equal(await carryNodeRecords(from, to), 2500);
    assert.equal((await readAll(to)).size, 2501);
  });

  it('with no snapshot chain waiting it leaves the chain alone', async () => {
    const chainDb = join(root, 'c', 'chain');
    mkdirSync(join(root, 'c'));
    await writeDb(chainDb, [[key(Bucket.block, 1), Uint8Array.of(2)]]);
    assert.equal(await installStateSyncedChain(chainDb), false);
    assert.equal((await readAll(chainDb)).size, 1);
  });
});
