/**
 * A local fault is not a peer's fault: when the signature verifier itself
 * fails (a crashed worker), connecting a valid block fails with that error,
 * never with a verification code that would penalise the peer, and the chain
 * does not move.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Chain } from '../../src/chain/chain.ts';
import { VerificationError } from '../../src/consensus/errors.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { Database } from '../../src/storage/db.ts';
import { ruleGenesis, withRuleChain } from '../support/rule-fixture.ts';

describe('local faults during block connect', () => {
  it('a failing signature verifier is reported as itself, not as BLOCK_BAD_COMMIT', () =>
    withRuleChain(async (r) => {
      // A valid block and certificate, built on a healthy chain of the same genesis.
      const block = await r.block();
      const commit = r.commit(block);
      const dir = mkdtempSync(join(tmpdir(), 'utxod-fault-'));
      const db = await Database.open({ path: join(dir, 'chain'), syncWrites: false });
      try {
        const crashed = new Error('verifier worker crashed');
        const signatures = new SignatureChecker({
          verifier: {
            verifyBatch: async () => {
              throw crashed;
            },
          },
          cache: null,
        });
        const chain = await Chain.init(
          { utxoCacheBytes: 1 << 20 },
          { db, genesis: ruleGenesis(), signatures, logger: silentLogger() },
        );
        await assert.rejects(chain.connectBlock(block, commit, { now: null }), (error: unknown) => {
          assert.ok(!(error instanceof VerificationError), `blamed on the peer: ${String(error)}`);
          assert.equal(error, crashed);
          return true;
        });
        assert.equal(chain.tipHeight, 0);
      } finally {
        await db.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }));
});
