/**
 * One test per block rule (every BLOCK_* code the verifier raises): a block
 * built by hand that breaks exactly that rule is connected through the real
 * Chain on LevelDB, and the test asserts the exact code and that nothing
 * changed (records, tip, UTXO state, coin cache). Boundaries are tested from
 * both sides: the block just inside the rule connects.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { sign } from '../../src/crypto/signer.ts';
import { Block } from '../../src/primitives/block.ts';
import { CommitCertificate, VoteType, voteDigest } from '../../src/primitives/commit.ts';
import { Header } from '../../src/primitives/header.ts';
import { merkleRoot } from '../../src/primitives/merkle.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import {
  alice,
  MAX_BLOCK_BYTES,
  type RuleChain,
  txOfSize,
  validator,
  withRuleChain,
} from '../support/rule-fixture.ts';

const junk = (label: string) => sha256(new TextEncoder().encode(label));

/** A precommit certificate for (height, hash) signed by `key` as validator `index`. */
function commitOver(
  r: RuleChain,
  height: number,
  blockHash: Uint8Array,
  opts: { key?: KeyPair; index?: number; round?: number; signers?: number } = {},
): CommitCertificate {
  const round = opts.round ?? 0;
  const digest = voteDigest(r.chain.chainIdHash, VoteType.precommit, height, round, blockHash);
  const signers = opts.signers ?? 1;
  return new CommitCertificate({
    height,
    round,
    blockHash,
    signatures: Array.from({ length: signers }, () => ({
      validatorIndex: opts.index ?? 0,
      signature: sign(digest, (opts.key ?? validator).privateKey),
    })),
  });
}

/** Six spends whose block is exactly `size` bytes. */
async function blockOfSize(r: RuleChain, size: number): Promise<Block> {
  const coins = await r.genesisCoins();
  const fixed = [0, 1, 2, 3, 4].map((i) => txOfSize(r, coins[i]!, 3_800));
  const probe = await r.block({ txs: [...fixed, txOfSize(r, coins[5]!, 1_000)] });
  const last = txOfSize(r, coins[5]!, 1_000 + size - probe.size);
  const block = await r.block({ txs: [...fixed, last] });
  assert.equal(block.size, size);
  return block;
}

describe('block rules, through Chain.connectBlock', () => {
  it('control: a block built by hand connects, so each rejection below is its one broken rule', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const block = await r.connect([r.pay([c!], 5000n)]);
      assert.equal(r.chain.tipHeight, 1);
      assert.equal(block.txs[0]!.outputs[0]!.amount, 50n * 100_000_000n + 5000n);
    }));

  it('BLOCK_TOO_LARGE: one byte above the limit; exactly at the limit connects', () =>
    withRuleChain(async (r) => {
      await r.rejectsBlock(await blockOfSize(r, MAX_BLOCK_BYTES + 1), 'BLOCK_TOO_LARGE');
      const atLimit = await blockOfSize(r, MAX_BLOCK_BYTES);
      await r.chain.connectBlock(atLimit, r.commit(atLimit), { now: null });
      assert.equal(r.chain.tipHeight, 1);
    }));

  it('BLOCK_BAD_TX_ROOT: a root that does not commit to the transactions (or their witnesses)', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const tx = r.pay([c!]);
      await r.rejectsBlock(
        await r.block({ txs: [tx], header: { txRoot: junk('root') } }),
        'BLOCK_BAD_TX_ROOT',
      );
      const good = await r.block({ txs: [tx] });
      // Committing to txids rather than wtxids would let witnesses change under the root.
      const byTxid = merkleRoot(good.txs.map((t) => t.txid));
      await r.rejectsBlock(
        await r.block({ txs: [tx], header: { txRoot: byTxid } }),
        'BLOCK_BAD_TX_ROOT',
      );
    }));

  it('BLOCK_NO_COINBASE: no transactions at all, or a spend in first position', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const tx = r.pay([c!]);
      await r.rejectsBlock(await r.block({ editTxs: () => [] }), 'BLOCK_NO_COINBASE');
      await r.rejectsBlock(
        await r.block({ txs: [tx], editTxs: ([cb, spend]) => [spend!, cb!] }),
        'BLOCK_NO_COINBASE',
      );
    }));

  it('BLOCK_MULTIPLE_COINBASE: a second coinbase', () =>
    withRuleChain(async (r) => {
      await r.rejectsBlock(
        await r.block({
          editTxs: ([cb]) => [
            cb!,
            new Transaction({ ...cb!, outputs: [{ ...cb!.outputs[0]!, amount: 1n }] }),
          ],
        }),
        'BLOCK_MULTIPLE_COINBASE',
      );
    }));

  it('BLOCK_BAD_COINBASE_LOCKTIME: a coinbase lock time one below or above the height', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      await r.rejectsBlock(await r.block({ coinbaseLockTime: 2 }), 'BLOCK_BAD_COINBASE_LOCKTIME');
      await r.rejectsBlock(await r.block({ coinbaseLockTime: 4 }), 'BLOCK_BAD_COINBASE_LOCKTIME');
    }));

  it('BLOCK_COINBASE_TOO_LARGE: one unit above subsidy + fees; exactly that connects', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await r.genesisCoins();
      const txs = [r.pay([c1!], 7000n), r.pay([c2!], 3000n)];
      await r.rejectsBlock(await r.block({ txs, coinbaseExtra: 1n }), 'BLOCK_COINBASE_TOO_LARGE');
      const block = await r.connect(txs);
      assert.equal(block.txs[0]!.outputs[0]!.amount, 50n * 100_000_000n + 10_000n);
    }));

  it('BLOCK_DUPLICATE_TX: the same transaction twice', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const tx = r.pay([c!]);
      await r.rejectsBlock(await r.block({ txs: [tx, tx] }), 'BLOCK_DUPLICATE_TX');
    }));

  it('BLOCK_DOUBLE_SPEND: two transactions of one block spending one coin', () =>
    withRuleChain(async (r) => {
      const [c] = await r.genesisCoins();
      const toBob = r.pay([c!]);
      const toAlice = r.pay([c!], 2000n, alice);
      await r.rejectsBlock(await r.block({ txs: [toBob, toAlice] }), 'BLOCK_DOUBLE_SPEND');
    }));

  it('BLOCK_BAD_HEIGHT: a height one above or equal to the tip', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      for (const height of [4, 2]) {
        const block = await r.block({ header: { height }, coinbaseLockTime: height });
        await r.rejectsBlock(block, 'BLOCK_BAD_HEIGHT');
      }
    }));

  it('BLOCK_BAD_PREV: a parent other than the tip', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const parent = await r.chain.requireBlockAt(1);
      await r.rejectsBlock(await r.block({ header: { prevHash: parent.hash } }), 'BLOCK_BAD_PREV');
    }));

  it('BLOCK_BAD_TIME: at or before the parent; one millisecond after connects', () =>
    withRuleChain(async (r) => {
      await r.growTo(1);
      const parentTime = r.chain.tip.header.time;
      for (const time of [parentTime, parentTime - 1]) {
        await r.rejectsBlock(await r.block({ header: { time } }), 'BLOCK_BAD_TIME');
      }
      await r.connect([], { header: { time: parentTime + 1 } });
      assert.equal(r.chain.tip.header.time, parentTime + 1);
    }));

  it('BLOCK_TIME_TOO_FAR_AHEAD: beyond the allowed drift of the local clock; at it connects', () =>
    withRuleChain(async (r) => {
      const now = r.chain.tip.header.time + 60_000;
      const limit = now + r.chain.params.maxFutureBlockTimeMs;
      const ahead = await r.block({ header: { time: limit + 1 } });
      await r.rejectsBlock(ahead, 'BLOCK_TIME_TOO_FAR_AHEAD', { now });
      const atLimit = await r.block({ header: { time: limit } });
      await r.chain.connectBlock(atLimit, r.commit(atLimit), { now });
      assert.equal(r.chain.tipHeight, 1);
    }));

  it('BLOCK_BAD_UTXO_ROOT: the parent commitment, or one that drops the coinbase flag', () =>
    withRuleChain(async (r) => {
      await r.growTo(1);
      const parentRoot = r.chain.tip.header.utxoRoot;
      await r.rejectsBlock(
        await r.block({ header: { utxoRoot: parentRoot } }),
        'BLOCK_BAD_UTXO_ROOT',
      );
      await r.rejectsBlock(await r.block({ coinbaseFlag: false }), 'BLOCK_BAD_UTXO_ROOT');
      await r.rejectsBlock(
        await r.block({ header: { utxoRoot: junk('utxo') } }),
        'BLOCK_BAD_UTXO_ROOT',
      );
    }));

  it('BLOCK_BAD_STATE_ROOT: a state root other than the registry root after the block', () =>
    withRuleChain(async (r) => {
      await r.rejectsBlock(
        await r.block({ header: { stateRoot: junk('state') } }),
        'BLOCK_BAD_STATE_ROOT',
      );
    }));

  it('BLOCK_BAD_VALIDATOR_SET: a validator-set hash other than the current set, or a next-set hash other than the scheduled one', () =>
    withRuleChain(async (r) => {
      await r.rejectsBlock(
        await r.block({ header: { validatorSetHash: junk('validators') } }),
        'BLOCK_BAD_VALIDATOR_SET',
      );
      await r.rejectsBlock(
        await r.block({ header: { nextValidatorSetHash: junk('next validators') } }),
        'BLOCK_BAD_VALIDATOR_SET',
      );
    }));

  it('BLOCK_BAD_PROPOSER: a proposer outside the validator set', () =>
    withRuleChain(async (r) => {
      await r.rejectsBlock(
        await r.block({ header: { proposer: alice.publicKey } }),
        'BLOCK_BAD_PROPOSER',
      );
    }));

  it('BLOCK_BAD_LAST_COMMIT: header hash mismatch, and a non-empty commit for genesis', () =>
    withRuleChain(async (r) => {
      await r.rejectsBlock(
        await r.block({ header: { lastCommitHash: junk('last commit') } }),
        'BLOCK_BAD_LAST_COMMIT',
      );
      // Block 1 must carry exactly the empty genesis commit, hash-consistent or not.
      const signedGenesis = commitOver(r, 0, r.chain.genesisHash);
      await r.rejectsBlock(await r.block({ lastCommit: signedGenesis }), 'BLOCK_BAD_LAST_COMMIT');
      const otherGenesis = CommitCertificate.empty(junk('other genesis'));
      await r.rejectsBlock(await r.block({ lastCommit: otherGenesis }), 'BLOCK_BAD_LAST_COMMIT');
    }));

  it('BLOCK_BAD_LAST_COMMIT: the parent certificate for another block, unsigned, or forged', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const parent = r.chain.tip;
      const cases: Array<[string, CommitCertificate]> = [
        ['another block', commitOver(r, parent.height, junk('sibling'))],
        ['another height', commitOver(r, parent.height - 1, parent.hash)],
        ['no signatures', commitOver(r, parent.height, parent.hash, { signers: 0 })],
        ['unknown signer', commitOver(r, parent.height, parent.hash, { index: 1 })],
        ['wrong key', commitOver(r, parent.height, parent.hash, { key: alice })],
      ];
      for (const [what, lastCommit] of cases) {
        const error = await r.rejectsBlock(await r.block({ lastCommit }), 'BLOCK_BAD_LAST_COMMIT');
        assert.ok(error.reason.length > 0, what);
      }
      // A parent certificate from a later round is as good as the stored one.
      await r.connect([], { lastCommit: commitOver(r, parent.height, parent.hash, { round: 3 }) });
    }));

  it('BLOCK_BAD_COMMIT: a certificate for another block, unsigned, or forged', () =>
    withRuleChain(async (r) => {
      await r.growTo(1);
      const block = await r.block();
      const cases: Array<[string, CommitCertificate]> = [
        ['another block', commitOver(r, block.height, junk('sibling'))],
        ['another height', commitOver(r, block.height + 1, block.hash)],
        ['no signatures', commitOver(r, block.height, block.hash, { signers: 0 })],
        ['unknown signer', commitOver(r, block.height, block.hash, { index: 1 })],
        ['wrong key', commitOver(r, block.height, block.hash, { key: alice })],
      ];
      for (const [what, commit] of cases) {
        const error = await r.rejectsBlock(block, 'BLOCK_BAD_COMMIT', { commit });
        assert.ok(error.reason.length > 0, what);
      }
      await r.chain.connectBlock(block, commitOver(r, block.height, block.hash, { round: 2 }), {
        now: null,
      });
      assert.equal(r.chain.tipHeight, 2);
    }));

  it('a valid block with a header field changed after certification is refused', () =>
    withRuleChain(async (r) => {
      const block = await r.block();
      const commit = r.commit(block);
      const moved = new Block(
        new Header({ ...block.header, time: block.header.time + 1 }),
        block.lastCommit,
        block.txs,
      );
      await r.rejectsBlock(moved, 'BLOCK_BAD_COMMIT', { commit });
    }));
});
