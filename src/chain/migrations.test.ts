/**
 * Database layout migrations on a real LevelDB chain: a schema-1 database
 * (the layout this build's predecessor wrote) opens, migrates, and verifies;
 * a newer one is refused; a step that fails leaves the old layout untouched.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { silentLogger } from '../logger/index.ts';
import {
  type BatchOp,
  Bucket,
  type Database,
  DatabaseError,
  migrateDatabase,
  readSchemaVersion,
  SCHEMA_VERSION,
  schemaVersionOp,
} from '../storage/index.ts';
import { setHistoryKey } from './chain-storage.ts';
import { CHAIN_MIGRATIONS, v1SetHistoryKey } from './migrations.ts';
import { verifyChain } from './verify-chain.ts';

async function keysOf(db: Database, bucket: number): Promise<Uint8Array[]> {
  const keys: Uint8Array[] = [];
  for await (const [key] of db.range(Uint8Array.of(bucket), Uint8Array.of(bucket + 1)))
    keys.push(key);
  return keys;
}

/** Rewrites a current database into the schema-1 layout, as the previous release left it. */
async function toSchema1(db: Database): Promise<number> {
  const ops: BatchOp[] = [];
  for await (const [key, value] of db.range(
    Uint8Array.of(Bucket.validatorSetHistory),
    Uint8Array.of(Bucket.validatorSetHistory + 1),
  )) {
    const height = new DataView(key.buffer, key.byteOffset + 1, 4).getUint32(0, false);
    ops.push({ type: 'del', key }, { type: 'put', key: v1SetHistoryKey(height), value });
  }
  await db.write([...ops, schemaVersionOp(1)]);
  return ops.length / 2;
}

async function chainWithBlocks(): Promise<TestChain> {
  const validator = testKey(0);
  const t = await openTestChain({
    genesis: testGenesis({ validator, funded: [testKey(1)] }),
    validator,
  });
  for (let i = 0; i < 3; i++) await t.produce();
  return t;
}

describe('chain database migrations', () => {
  it('opens a schema-1 database: moves the set history, bumps the schema, verifies', async () => {
    const t = await chainWithBlocks();
    const tipHash = t.chain.tip.hash;
    const moved = await toSchema1(t.db);
    assert.ok(moved >= 1, 'the genesis set is in the history');
    assert.equal((await keysOf(t.db, Bucket.validatorSetHistory)).length, 0);

    const reopened = await t.reopen();
    assert.equal(await readSchemaVersion(reopened.db), SCHEMA_VERSION);
    assert.equal((await keysOf(reopened.db, Bucket.validatorSetHistory)).length, moved);
    assert.equal(await reopened.db.get(v1SetHistoryKey(1)), undefined, 'old keys are gone');
    assert.ok((await reopened.db.get(setHistoryKey(1))) !== undefined);
    assert.deepEqual(reopened.chain.tip.hash, tipHash);
    const verified = await verifyChain(reopened.chain, {
      full: true,
      scanUtxos: true,
      signatures: reopened.chain.blockContext(null).signatures,
    });
    assert.equal(verified.toHeight, 3);
    // The chain goes on with the new layout.
    await reopened.produce();
    assert.equal(reopened.chain.tipHeight, 4);
    await reopened.destroy();
  });

  it('refuses a database written by a newer utxod, naming both versions', async () => {
    const t = await chainWithBlocks();
    await t.db.write([schemaVersionOp(SCHEMA_VERSION + 1)]);
    await t.close();
    await assert.rejects(
      t.reopen(),
      (e: unknown) =>
        e instanceof DatabaseError &&
        e.code === 'DB_SCHEMA_MISMATCH' &&
        e.message.includes(`schema version ${SCHEMA_VERSION + 1}`) &&
        e.message.includes(`up to ${SCHEMA_VERSION}`),
    );
    rmSync(t.dir, { recursive: true, force: true });
  });

  it('leaves the old layout untouched when a step fails, and names a missing step', async () => {
    const t = await chainWithBlocks();
    await toSchema1(t.db);
    const logger = silentLogger();
    const failing = {
      from: 1,
      description: 'a step that fails half way',
      async ops(): Promise<BatchOp[]> {
        throw new Error('disk error while reading');
      },
    };
    await assert.rejects(
      migrateDatabase(t.db, { target: 2, migrations: [failing] }, { logger }),
      /disk error/,
    );
    assert.equal(await readSchemaVersion(t.db), 1);
    assert.ok((await t.db.get(v1SetHistoryKey(1))) !== undefined);
    await assert.rejects(
      migrateDatabase(t.db, { target: 3, migrations: CHAIN_MIGRATIONS }, { logger }),
      (e: unknown) => e instanceof DatabaseError && /no migration from it to 3/.test(e.message),
    );
    assert.equal(await readSchemaVersion(t.db), 2, 'the known step ran and was kept');
    await t.destroy();
  });
});
