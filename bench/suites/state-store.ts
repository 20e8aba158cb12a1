/**
 * The state store (src/state): cost of a block's update per changed key as
 * the tree grows 5x (O(log n) means the ratio stays near 1), and proof
 * verification rate. Real LevelDB in a temp directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateKeys } from '../../src/state/keys.ts';
import { StateOverlay } from '../../src/state/overlay.ts';
import { verifyProof } from '../../src/state/proof.ts';
import { StateStore } from '../../src/state/store.ts';
import { Database } from '../../src/storage/db.ts';
import { type BenchResult, measureRate, timeOnce } from '../lib.ts';

const SUITE = 'state-store';
const SMALL = 4_000;
const LARGE = 20_000;
const FILL_BLOCK = 2_000;
const CHANGED = 200;
const BLOCKS = 4;

function key(i: number) {
  const id = new Uint8Array(32);
  new DataView(id.buffer).setUint32(0, i, false);
  return StateKeys.contractStorage(id, Uint8Array.of(1));
}

async function commit(db: Database, store: StateStore, overlay: StateOverlay): Promise<void> {
  const update = await store.prepare(overlay, store.height + 1);
  await db.write(update.ops);
  store.applyCommitted(update);
}

async function fillTo(db: Database, store: StateStore, from: number, to: number): Promise<void> {
  for (let start = from; start < to; start += FILL_BLOCK) {
    const overlay = new StateOverlay(store);
    for (let i = start; i < Math.min(to, start + FILL_BLOCK); i++)
      overlay.put(key(i), Uint8Array.of(i & 0xff, 1));
    await commit(db, store, overlay);
  }
}

/** Milliseconds per changed key of blocks that each rewrite CHANGED scattered keys. */
async function updateCostPerKey(
  db: Database,
  store: StateStore,
  n: number,
  round: number,
): Promise<number> {
  let total = 0;
  for (let b = 0; b < BLOCKS; b++) {
    const overlay = new StateOverlay(store);
    for (let j = 0; j < CHANGED; j++) {
      const i = (j * 7919 + b * 104_729 + round) % n;
      overlay.put(key(i), Uint8Array.of(b, round, j & 0xff));
    }
    total += await timeOnce(() => commit(db, store, overlay));
  }
  return total / (BLOCKS * CHANGED);
}

export async function run(): Promise<BenchResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'utxod-bench-state-'));
  const db = await Database.open({ path: dir, syncWrites: false });
  try {
    const store = await StateStore.open({ retainRoots: 16 }, { db });
    await fillTo(db, store, 0, SMALL);
    const small = await updateCostPerKey(db, store, SMALL, 1);
    await fillTo(db, store, SMALL, LARGE);
    const large = await updateCostPerKey(db, store, LARGE, 2);

    const proofs = await Promise.all(
      Array.from({ length: 64 }, (_, i) => store.prove(key((i * 1543) % LARGE))),
    );
    const root = store.root;
    let p = 0;
    const verifyRate = await measureRate(() => {
      const { proof, value } = proofs[p++ % proofs.length]!;
      if (!verifyProof(root, key((((p - 1) % proofs.length) * 1543) % LARGE), value, proof)) {
        throw new Error('a proof failed to verify');
      }
    });
    return [
      {
        suite: SUITE,
        name: `update per changed key, ${SMALL} keys`,
        value: small * 1000,
        unit: 'us',
      },
      {
        suite: SUITE,
        name: `update per changed key, ${LARGE} keys (5x the tree)`,
        value: large * 1000,
        unit: 'us',
        ratio: large / small,
        baselineName: `update per changed key, ${SMALL} keys`,
        goal: { value: 2, better: 'lower' },
      },
      {
        suite: SUITE,
        name: 'proof verification (pure, @noble/hashes)',
        value: verifyRate,
        unit: 'proofs/s',
      },
    ];
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
