/** A real state store on a real LevelDB in a temp directory, for tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateOverlay } from '../../src/state/overlay.ts';
import { StateStore } from '../../src/state/store.ts';
import { Database } from '../../src/storage/db.ts';

export interface TestState {
  readonly dir: string;
  db: Database;
  store: StateStore;
  retainRoots: number;
  close(): Promise<void>;
  /** Closes and reopens database and store, as a restarted node would. */
  reopen(): Promise<void>;
}

export async function openTestState(retainRoots = 8, dir?: string): Promise<TestState> {
  const path = dir ?? mkdtempSync(join(tmpdir(), 'utxod-state-'));
  const db = await Database.open({ path, syncWrites: false });
  const store = await StateStore.open({ retainRoots }, { db });
  const t: TestState = {
    dir: path,
    db,
    store,
    retainRoots,
    async close() {
      await t.db.close();
      if (dir === undefined) rmSync(path, { recursive: true, force: true });
    },
    async reopen() {
      await t.db.close();
      t.db = await Database.open({ path, syncWrites: false });
      t.store = await StateStore.open({ retainRoots: t.retainRoots }, { db: t.db });
    },
  };
  return t;
}

/** Prepares `overlay` at the next height, writes the batch, applies it: one block. */
export async function commitOverlay(t: TestState, overlay: StateOverlay): Promise<Uint8Array> {
  const update = await t.store.prepare(overlay, t.store.height + 1);
  await t.db.write(update.ops);
  t.store.applyCommitted(update);
  return update.root;
}

export async function rollbackOne(t: TestState): Promise<Uint8Array> {
  const rollback = await t.store.prepareRollback();
  await t.db.write(rollback.ops);
  t.store.applyRolledBack(rollback);
  return rollback.root;
}

export async function allEntries(t: TestState): Promise<{ key: Uint8Array; value: Uint8Array }[]> {
  const out: { key: Uint8Array; value: Uint8Array }[] = [];
  for await (const e of t.store.entries()) out.push(e);
  return out;
}

export function newOverlay(t: TestState): StateOverlay {
  return new StateOverlay(t.store);
}
