/**
 * A proposal is validated once: Chain.validateProposal checks every rule but
 * the block's own commit and keeps the plan, so the commit on the same tip
 * verifies only the commit certificate.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CHAIN_ID,
  genesisCoins,
  signSoloCommit,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { buildTransaction } from '../client/tx-builder.ts';
import { VerificationError } from '../consensus/errors.ts';
import type { SignatureJob } from '../consensus/signatures.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { ParallelVerifier } from '../crypto/verify-pool.ts';
import { silentLogger } from '../logger/index.ts';
import { COIN } from '../primitives/amount.ts';
import { Block } from '../primitives/block.ts';
import { Header } from '../primitives/header.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import { Database } from '../storage/db.ts';
import { assembleBlock } from './block-assembler.ts';
import { Chain } from './chain.ts';

const validator = testKey(0);
const alice = testKey(1);
const bob = testKey(2);
const genesis = testGenesis({ validator, funded: [alice] });

describe('chain: a proposal validated once', () => {
  let dir: string;
  let db: Database;
  let verifier: ParallelVerifier;
  let chain: Chain;
  /** Signatures the chain asked to verify, per batch (no cache: every check counts). */
  const batches: number[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'utxod-proposal-'));
    db = await Database.open({ path: join(dir, 'chain'), syncWrites: false });
    verifier = await ParallelVerifier.init({ workers: 0 });
    const counting = {
      verifyBatch(jobs: readonly SignatureJob[]) {
        batches.push(jobs.length);
        return verifier.verifyBatch(jobs);
      },
    };
    const signatures = new SignatureChecker({ verifier: counting, cache: null });
    chain = await Chain.init(
      { utxoCacheBytes: 1 << 20 },
      { db, genesis, signatures, logger: silentLogger() },
    );
  });

  after(async () => {
    await verifier.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function proposalSpending(): Promise<Block> {
    const [coin] = await genesisCoins(chain);
    const tx = buildTransaction({
      chainId: CHAIN_ID,
      coins: [coin!],
      outputs: [{ amount: 10n * COIN, lock: pubkeyLock(bob.publicKey) }],
      changeLock: pubkeyLock(alice.publicKey),
      feeRate: 1000n,
      keys: [alice],
    });
    const fee = coin!.amount - tx.outputs.reduce((sum, o) => sum + o.amount, 0n);
    return assembleBlock(chain, {
      txs: [tx],
      fees: fee,
      proposer: validator.publicKey,
      rewardLock: pubkeyLock(validator.publicKey),
      time: chain.tip.header.time + 1000,
    });
  }

  it('refuses a proposal that breaks a rule, with its code, and moves nothing', async () => {
    const block = await proposalSpending();
    const bad = new Block(
      new Header({ ...block.header, utxoRoot: new Uint8Array(32) }),
      block.lastCommit,
      block.txs,
    );
    await assert.rejects(chain.validateProposal(bad, { now: null }), (error) => {
      assert.ok(error instanceof VerificationError);
      assert.equal(error.code, 'BLOCK_BAD_UTXO_ROOT');
      return true;
    });
    assert.equal(chain.tipHeight, 0);
  });

  it('commits a validated proposal checking only its commit certificate', async () => {
    const block = await proposalSpending();
    batches.length = 0;
    await chain.validateProposal(block, { now: null });
    const validation = batches.reduce((a, b) => a + b, 0);
    assert.ok(validation >= 1, 'the transaction signature was checked at validation');

    batches.length = 0;
    await chain.connectBlock(block, signSoloCommit(chain.chainIdHash, block, validator), {
      now: null,
    });
    assert.deepEqual(batches, [1], 'one batch: the commit certificate (one validator)');
    assert.equal(chain.tipHeight, 1);
    assert.equal(
      (await chain.getCoins([{ txid: block.txs[1]!.txid, index: 0 }]))[0]?.amount,
      10n * COIN,
    );
  });

  it('a plan is not reused on another tip, nor without a valid commit', async () => {
    const block = await assembleBlock(chain, {
      txs: [],
      fees: 0n,
      proposer: validator.publicKey,
      rewardLock: pubkeyLock(validator.publicKey),
      time: chain.tip.header.time + 1000,
    });
    await chain.validateProposal(block, { now: null });
    // A commit signed by someone outside the set: the cached plan does not make it final.
    await assert.rejects(
      chain.connectBlock(block, signSoloCommit(chain.chainIdHash, block, bob), { now: null }),
      (error) => error instanceof VerificationError && error.code === 'BLOCK_BAD_COMMIT',
    );
    assert.equal(chain.tipHeight, 1);
    // Still connectable with the right commit, by full validation.
    batches.length = 0;
    await chain.connectBlock(block, signSoloCommit(chain.chainIdHash, block, validator), {
      now: null,
    });
    assert.equal(chain.tipHeight, 2);
  });
});
