import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { StateKeys } from '../../src/state/keys.ts';
import { computeRoot, verifyProof } from '../../src/state/proof.ts';
import { StateStore } from '../../src/state/store.ts';
import { Database } from '../../src/storage/db.ts';
import { bytesKey, toHex } from '../../src/util/bytes.ts';
import { blockOps } from '../support/state-writer.ts';

const WRITER = join(import.meta.dirname, '../support/state-writer.ts');

/** Runs the writer until it has committed `blocks` blocks, then kills it with SIGKILL. */
function runAndKill(dir: string, blocks: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WRITER, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = -1;
    let buffered = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('writer made no progress in 60 s'));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) last = Number(line.split(' ')[1]);
      if (last >= blocks) child.kill('SIGKILL');
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(last);
    });
  });
}

function expectedRootAt(height: number): Uint8Array {
  const model = new Map<string, { key: Uint8Array; value: Uint8Array }>();
  for (let h = 0; h <= height; h++) {
    for (const { key, value } of blockOps(h)) {
      if (value === null) model.delete(bytesKey(key));
      else model.set(bytesKey(key), { key, value });
    }
  }
  return computeRoot(model.values());
}

describe('state store survives kill -9', () => {
  it('reopens at a committed height with the exact root, twice in a row', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'utxod-state-crash-'));
    try {
      for (const target of [25, 60]) {
        const lastPrinted = await runAndKill(dir, target);
        const db = await Database.open({ path: dir, syncWrites: false });
        try {
          const store = await StateStore.open({ retainRoots: 4 }, { db });
          // The batch after the last printed line may or may not have landed; nothing in between.
          assert.ok(
            store.height === lastPrinted || store.height === lastPrinted + 1,
            `reopened at ${store.height}, last printed ${lastPrinted}`,
          );
          assert.equal(toHex(store.root), toHex(expectedRootAt(store.height)));
          const entries = [];
          for await (const e of store.entries()) entries.push(e);
          assert.equal(toHex(computeRoot(entries)), toHex(store.root));
          assert.equal((await store.verify()).entries, entries.length);
          for (let i = 0; i < 200; i += 7) {
            const key = StateKeys.registry(new Uint8Array(32).fill(i));
            const { proof, value } = await store.prove(key);
            assert.ok(verifyProof(store.root, key, value, proof));
          }
        } finally {
          await db.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
