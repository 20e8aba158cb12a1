/**
 * A child process for the state crash test: commits deterministic blocks to
 * the state store in DIR, printing "committed HEIGHT ROOT" after each batch is
 * written, until it is killed. `blockOps(h)` is shared with the test so the
 * parent can replay what each height must contain.
 */
import { type StateKey, StateKeys } from '../../src/state/keys.ts';
import { StateOverlay } from '../../src/state/overlay.ts';
import { StateStore } from '../../src/state/store.ts';
import { Database } from '../../src/storage/db.ts';
import { toHex } from '../../src/util/bytes.ts';

export function blockOps(height: number): { key: StateKey; value: Uint8Array | null }[] {
  const ops: { key: StateKey; value: Uint8Array | null }[] = [];
  let x = (height * 2654435761) >>> 0;
  for (let i = 0; i < 40; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    const id = new Uint8Array(32).fill(x % 200);
    const key = x % 3 === 0 ? StateKeys.stake(id) : StateKeys.registry(id);
    const value = x % 7 === 0 ? null : new TextEncoder().encode(`h${height} i${i}`);
    ops.push({ key, value });
  }
  return ops;
}

async function main(dir: string): Promise<void> {
  const db = await Database.open({ path: dir, syncWrites: false });
  const store = await StateStore.open({ retainRoots: 4 }, { db });
  for (;;) {
    const height = store.height + 1;
    const overlay = new StateOverlay(store);
    for (const { key, value } of blockOps(height)) {
      if (value === null) overlay.delete(key);
      else overlay.put(key, value);
    }
    const update = await store.prepare(overlay, height);
    await db.write(update.ops);
    store.applyCommitted(update);
    process.stdout.write(`committed ${height} ${toHex(update.root)}\n`);
  }
}

if (process.argv[2] !== undefined) await main(process.argv[2]);
