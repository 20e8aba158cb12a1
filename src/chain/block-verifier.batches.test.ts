import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CHAIN_ID,
  genesisCoins,
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { buildTransaction } from '../client/tx-builder.ts';
import { VerificationError } from '../consensus/errors.ts';
import { SignatureChecker, type SignatureJob } from '../consensus/signatures.ts';
import { COIN } from '../primitives/amount.ts';
import type { Block } from '../primitives/block.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import { Transaction, TX_VERSION } from '../primitives/transaction.ts';
import { assembleBlock } from './block-assembler.ts';
import { planBlockConnect } from './block-verifier.ts';

// Signatures of a block go to the verifier in batches as they are built
// (SIGNATURE_BATCH = 512). These blocks carry 1,100: two batches.
const TXS = 11;
const INPUTS_PER_TX = 100;

const validator = testKey(0);
const owner = testKey(1);
const other = testKey(2);
/** A signature the verifier below calls invalid; any other one passes (none is really checked). */
const BAD = new Uint8Array(64);

/**
 * Says false for BAD and true for anything else, after a delay chosen per
 * batch (by its order of arrival): batches may finish in any order.
 */
function scriptedChecker(delays: number[]): { checker: SignatureChecker; batches: number[] } {
  const batches: number[] = [];
  const verifier = {
    async verifyBatch(jobs: readonly SignatureJob[]): Promise<boolean[]> {
      const delay = delays[batches.length] ?? 0;
      batches.push(jobs.length);
      await new Promise((resolve) => setTimeout(resolve, delay));
      return jobs.map((j) => j.sig.some((b) => b !== 0));
    },
  };
  return { checker: new SignatureChecker({ verifier, cache: null }), batches };
}

async function withFannedOutChain(fn: (t: TestChain, coins: Uint8Array) => Promise<void>) {
  const genesis = testGenesis({ validator, funded: [owner], amount: 1_000_000n * COIN });
  const t = await openTestChain({ genesis, validator });
  try {
    const [premine] = await genesisCoins(t.chain);
    const fanOut = buildTransaction({
      chainId: CHAIN_ID,
      coins: [premine!],
      outputs: Array.from({ length: TXS * INPUTS_PER_TX }, () => ({
        amount: COIN,
        lock: pubkeyLock(owner.publicKey),
      })),
      changeLock: pubkeyLock(owner.publicKey),
      feeRate: 0n,
      keys: [owner],
    });
    await t.produce([fanOut]);
    await fn(t, fanOut.txid);
  } finally {
    await t.destroy();
  }
}

/** TXS transactions spending the fan-out, with placeholder signatures except where marked BAD. */
async function blockOf(
  t: TestChain,
  fanOutTxid: Uint8Array,
  opts: { bad?: number[]; wrongKeyTx?: number },
): Promise<Block> {
  const txs: Transaction[] = [];
  for (let n = 0; n < TXS; n++) {
    const key = n === opts.wrongKeyTx ? other : owner;
    const start = n * INPUTS_PER_TX;
    txs.push(
      new Transaction({
        version: TX_VERSION,
        inputs: Array.from({ length: INPUTS_PER_TX }, (_, i) => ({
          prevout: { txid: fanOutTxid, index: start + i },
        })),
        outputs: [{ amount: BigInt(INPUTS_PER_TX) * COIN, lock: pubkeyLock(other.publicKey) }],
        lockTime: 0,
        payload: null,
        witnesses: Array.from({ length: INPUTS_PER_TX }, (_, i) => ({
          publicKey: key.publicKey,
          signature: opts.bad?.includes(start + i) ? BAD : new Uint8Array(64).fill(7),
        })),
      }),
    );
  }
  return assembleBlock(t.chain, {
    txs,
    fees: 0n,
    proposer: validator.publicKey,
    rewardLock: pubkeyLock(validator.publicKey),
    time: t.chain.tip.header.time + 1000,
  });
}

async function planWith(t: TestChain, block: Block, checker: SignatureChecker) {
  return planBlockConnect(block, t.commitFor(block), {
    ...t.chain.blockContext(null),
    signatures: checker,
  });
}

describe('block validation: signatures sent in batches while jobs are built', () => {
  it('accepts a block whose signatures all pass, in more than one batch', async () => {
    await withFannedOutChain(async (t, fanOut) => {
      const block = await blockOf(t, fanOut, {});
      const { checker, batches } = scriptedChecker([]);
      await planWith(t, block, checker);
      // Two transaction batches (600 + 500) and the commit's signature.
      assert.deepEqual(
        batches.filter((n) => n > 1),
        [600, 500],
      );
    });
  });

  it('reports the first bad signature in block order, though a later batch fails first', async () => {
    await withFannedOutChain(async (t, fanOut) => {
      // Input 150 (tx 1, first batch) and input 900 (tx 9, second batch) are bad.
      const block = await blockOf(t, fanOut, { bad: [150, 900] });
      const { checker } = scriptedChecker([60, 0, 0]);
      const error = await planWith(t, block, checker).then(
        () => assert.fail('accepted a block with bad signatures'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof VerificationError);
      assert.equal(error.code, 'TX_BAD_SIGNATURE');
      assert.equal(error.details['txid'], Buffer.from(block.txs[2]!.txid).toString('hex'));
      assert.equal(error.details['inputIndex'], 50);
    });
  });

  it('a rule broken after a failing batch was sent is what is reported, and nothing is left unhandled', async () => {
    await withFannedOutChain(async (t, fanOut) => {
      // The first batch (txs 0-5) holds a bad signature; tx 8 is signed by the wrong key.
      const block = await blockOf(t, fanOut, { bad: [10], wrongKeyTx: 8 });
      const { checker, batches } = scriptedChecker([0]);
      await assert.rejects(
        planWith(t, block, checker),
        (e: unknown) => e instanceof VerificationError && e.code === 'TX_WRONG_KEY',
      );
      assert.deepEqual(batches, [600]);
      // Let the abandoned batch settle: an unhandled rejection would fail the run.
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
  });
});
