/**
 * Kill -9 a block-producing node at random moments, many times. After every
 * kill the database must open at a committed block whose UTXO commitment
 * verifies, and no block the node reported as committed may be missing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { verifyChain } from '../../src/chain/verify-chain.ts';
import { openChainOffline } from '../../src/cli/offline.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { NodeProcess, runUtxod } from '../support/node-process.ts';

const KILLS = 24;
const datadir = mkdtempSync(join(tmpdir(), 'utxod-crash-'));

/** Small deterministic PRNG so a failing schedule can be replayed from its seed. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('crash safety', () => {
  let current: NodeProcess | null = null;
  after(() => {
    current?.child.kill('SIGKILL');
    rmSync(datadir, { recursive: true, force: true });
  });

  it(`opens at a verified committed block after ${KILLS} SIGKILLs`, async () => {
    const seed = Number(process.env['UTXOD_CRASH_SEED'] ?? Date.now() % 1_000_000);
    const random = mulberry32(seed);
    assert.equal(runUtxod(['init', '--datadir', datadir]).status, 0);
    let highestReported = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      current = NodeProcess.start(datadir, ['--block-interval', '50', '--log-level', 'info']);
      await current.waitForLog((l) => l.msg === 'api listening');
      // Somewhere inside the next few block commits.
      await sleep(20 + Math.floor(random() * 300));
      current.child.kill('SIGKILL');
      await current.exited;
      highestReported = Math.max(highestReported, current.committedHeight);

      const offline = await openChainOffline(datadir, silentLogger());
      try {
        const tip = offline.chain.tipHeight;
        assert.ok(
          tip >= highestReported,
          `seed ${seed}, kill ${kill}: opened at ${tip} but ${highestReported} was reported committed`,
        );
        const result = await verifyChain(offline.chain, {
          full: false,
          scanUtxos: true,
          signatures: offline.signatures,
        });
        assert.equal(result.toHeight, tip);
      } finally {
        await offline.close();
      }
    }
    assert.ok(
      highestReported > KILLS,
      `seed ${seed}: the node committed only ${highestReported} blocks across the kills`,
    );
    const full = runUtxod(['verify-chain', '--datadir', datadir, '--full']);
    assert.equal(full.status, 0, full.stderr);
  });
});
