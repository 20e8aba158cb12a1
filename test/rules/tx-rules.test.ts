/**
 * One test per transaction rule (every TX_* code): a transaction that breaks
 * exactly that rule goes through block connect (real Chain on LevelDB) and,
 * where the rule applies there too, mempool admission; the test asserts the
 * exact code and that nothing changed. Where a rule has a boundary, the
 * transaction just inside it is accepted by the same path.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VerificationError } from '../../src/consensus/errors.ts';
import { checkTxInputs } from '../../src/consensus/tx-rules.ts';
import { MempoolError } from '../../src/mempool/errors.ts';
import { COIN, MAX_MONEY } from '../../src/primitives/amount.ts';
import { LockType, pubkeyLock } from '../../src/primitives/lock.ts';
import { encodeStakingPayload, StakingPayloadType } from '../../src/primitives/staking-payload.ts';
import {
  Transaction,
  TX_VERSION,
  type TxOutput,
  type TxPayload,
} from '../../src/primitives/transaction.ts';
import {
  alice,
  bob,
  MATURITY,
  MAX_TX_BYTES,
  type Owned,
  type RuleChain,
  txOfSize,
  validator,
  withRuleChain,
} from '../support/rule-fixture.ts';

const toBob = (amount: bigint): TxOutput => ({ amount, lock: pubkeyLock(bob.publicKey) });

/** Alice's first genesis coins. */
async function coins(r: RuleChain, n = 1): Promise<Owned[]> {
  return (await r.genesisCoins()).slice(0, n);
}

/** Rejected with `code` both in a block and by the mempool, nothing changed by either. */
async function rejectedEverywhere(r: RuleChain, tx: Transaction, code: string): Promise<void> {
  await r.rejectsBlock(await r.block({ txs: [tx] }), code);
  await r.rejectsTx(r.mempool(), tx, code);
}

/** Accepted both by the mempool and in a block (the control for a boundary). */
async function acceptedEverywhere(r: RuleChain, tx: Transaction): Promise<void> {
  const pool = r.mempool();
  const result = await pool.add(tx, 'peer');
  assert.equal(result.status, 'accepted');
  await r.connect([tx]);
  const [coin] = await r.chain.getCoins([{ txid: tx.txid, index: 0 }]);
  assert.ok(coin !== undefined, 'the accepted transaction created its output');
}

describe('transaction rules, through block connect and mempool admission', () => {
  it('TX_MALFORMED: a version other than 1', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const tx = r.tx([c!], [toBob(c!.output.amount - 1000n)], { version: TX_VERSION + 1 });
      await rejectedEverywhere(r, tx, 'TX_MALFORMED');
    }));

  it('TX_TOO_LARGE: one byte above the limit; exactly at the limit is accepted', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await coins(r, 2);
      await rejectedEverywhere(r, txOfSize(r, c1!, MAX_TX_BYTES + 1), 'TX_TOO_LARGE');
      await acceptedEverywhere(r, txOfSize(r, c2!, MAX_TX_BYTES));
    }));

  it('TX_NO_OUTPUTS: a transaction paying nothing to anyone', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      await rejectedEverywhere(r, r.tx([c!], []), 'TX_NO_OUTPUTS');
    }));

  it('TX_NO_INPUTS: a coinbase-shaped transaction is refused on every path', () =>
    withRuleChain(async (r) => {
      const free = new Transaction({
        version: TX_VERSION,
        inputs: [],
        outputs: [toBob(1000n)],
        lockTime: 7,
        payload: null,
        witnesses: [],
      });
      // The contextual rule itself (the block and mempool paths stop such a
      // transaction earlier, under their own codes, asserted below).
      assert.throws(
        () => checkTxInputs(free, [], 10, r.chain.params),
        (e: unknown) => e instanceof VerificationError && e.code === 'TX_NO_INPUTS',
      );
      await r.rejectsBlock(await r.block({ txs: [free] }), 'BLOCK_MULTIPLE_COINBASE');
      const pool = r.mempool();
      await assert.rejects(
        pool.add(free, 'peer'),
        (e: unknown) => e instanceof MempoolError && e.code === 'MEMPOOL_COINBASE',
      );
      assert.equal(pool.size, 0);
    }));

  it('TX_WITNESS_COUNT: one witness missing, and one too many', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await coins(r, 2);
      const signed = r.pay([c1!, c2!]);
      const fewer = signed.withWitnesses(signed.witnesses.slice(0, 1));
      await rejectedEverywhere(r, fewer, 'TX_WITNESS_COUNT');
      const more = signed.withWitnesses([...signed.witnesses, signed.witnesses[0]!]);
      await rejectedEverywhere(r, more, 'TX_WITNESS_COUNT');
    }));

  it('TX_OUTPUTS_OUT_OF_RANGE: outputs summing above the money limit', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const tx = r.tx([c!], [toBob(MAX_MONEY), toBob(1n)]);
      await rejectedEverywhere(r, tx, 'TX_OUTPUTS_OUT_OF_RANGE');
    }));

  it('CONTRACT_UNKNOWN: an output locked to a contract that does not exist', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const toContract: TxOutput = {
        amount: c!.output.amount - 5000n,
        lock: { type: LockType.contract, hash: new Uint8Array(32).fill(7) },
      };
      // Such a coin could never be spent: the lock names no contract's spend rule.
      await rejectedEverywhere(r, r.tx([c!], [toContract]), 'CONTRACT_UNKNOWN');
      // One such output among ordinary ones is enough.
      const mixed = r.tx(
        [c!],
        [toBob(1000n), { ...toContract, amount: toContract.amount - 1000n }],
      );
      await rejectedEverywhere(r, mixed, 'CONTRACT_UNKNOWN');
    }));

  it('TX_DUPLICATE_INPUT: one outpoint twice in one transaction', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const tx = r.tx([c!, c!], [toBob(c!.output.amount - 1000n)]);
      await rejectedEverywhere(r, tx, 'TX_DUPLICATE_INPUT');
    }));

  it('TX_UNKNOWN_PAYLOAD: an undefined payload type, and a memo one byte too long', () =>
    withRuleChain(async (r) => {
      const [c1, c2, c3] = await coins(r, 3);
      const out = (c: Owned) => [toBob(c.output.amount - 5000n)];
      const unknownType = r.tx([c1!], out(c1!), { payload: { type: 6, data: new Uint8Array(1) } });
      await rejectedEverywhere(r, unknownType, 'TX_UNKNOWN_PAYLOAD');
      const longMemo = r.tx([c2!], out(c2!), { payload: { type: 0, data: new Uint8Array(257) } });
      await rejectedEverywhere(r, longMemo, 'TX_UNKNOWN_PAYLOAD');
      const fullMemo = r.tx([c3!], out(c3!), { payload: { type: 0, data: new Uint8Array(256) } });
      await acceptedEverywhere(r, fullMemo);
    }));

  it('STAKE_PAYLOAD_MALFORMED: a staking payload of the wrong shape, refused by the stateless checks', () =>
    withRuleChain(async (r) => {
      const [c1, c2, c3, c4, c5] = await coins(r, 5);
      const out = (c: Owned) => [toBob(c.output.amount - 5000n)];
      const unbond = encodeStakingPayload({ kind: 'unbond', amount: COIN });
      const malformed: TxPayload[] = [
        { type: unbond.type, data: unbond.data.subarray(0, 7) },
        { type: unbond.type, data: Uint8Array.of(...unbond.data, 0) },
        { type: unbond.type, data: new Uint8Array(8) },
        { type: StakingPayloadType.unjail, data: new Uint8Array(1) },
      ];
      for (const [i, payload] of malformed.entries()) {
        const c = [c1, c2, c3, c4][i]!;
        const tx = r.tx([c], out(c), { payload });
        const inBlock = await r.rejectsBlock(
          await r.block({ txs: [tx] }),
          'STAKE_PAYLOAD_MALFORMED',
        );
        assert.equal(inBlock.penalty, 100);
        const admitted = await r.rejectsTx(r.mempool(), tx, 'STAKE_PAYLOAD_MALFORMED');
        assert.equal(admitted.penalty, 100);
      }
      // Stateless, so before any later transaction's stateless check: the
      // block is refused for its first fault, not for the second one's.
      const bad = r.tx([c1!], out(c1!), { payload: malformed[0]! });
      const duplicate = r.tx([c5!, c5!], out(c5!));
      await r.rejectsBlock(await r.block({ txs: [bad, duplicate] }), 'STAKE_PAYLOAD_MALFORMED');
      await r.rejectsBlock(await r.block({ txs: [duplicate, bad] }), 'TX_DUPLICATE_INPUT');
    }));

  it('TX_INPUT_MISSING: an outpoint that never existed, or was already spent', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const ghost: Owned = { ...c!, outpoint: { txid: c!.outpoint.txid, index: 99 } };
      await r.rejectsBlock(await r.block({ txs: [r.pay([ghost])] }), 'TX_INPUT_MISSING');
      const first = r.pay([c!]);
      await r.connect([first]);
      const again = r.pay([c!], 2000n, alice);
      await r.rejectsBlock(await r.block({ txs: [again] }), 'TX_INPUT_MISSING');
    }));

  it('TX_INPUT_MISSING: spending an output created later in the same block', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const parent = r.pay([c!], 1000n, alice);
      const child = r.pay([
        { outpoint: { txid: parent.txid, index: 0 }, output: parent.outputs[0]!, key: alice },
      ]);
      await r.rejectsBlock(await r.block({ txs: [child, parent] }), 'TX_INPUT_MISSING');
      // Parent first is the valid order, and the child's coin never touches the UTXO set.
      await r.connect([parent, child]);
      const [coin] = await r.chain.getCoins([{ txid: parent.txid, index: 0 }]);
      assert.equal(coin, undefined);
    }));

  it('TX_INPUT_MISSING (mempool): an output index the unconfirmed parent does not have', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const pool = r.mempool();
      const parent = r.pay([c!], 1000n, alice);
      assert.equal((await pool.add(parent)).status, 'accepted');
      const child = r.pay([
        { outpoint: { txid: parent.txid, index: 1 }, output: parent.outputs[0]!, key: alice },
      ]);
      await r.rejectsTx(pool, child, 'TX_INPUT_MISSING');
    }));

  it('TX_IMMATURE_SPEND: a coinbase spent one block too early; exactly at maturity is accepted', () =>
    withRuleChain(async (r) => {
      await r.growTo(1);
      const reward = await r.coinbaseOf(1);
      const tx = r.pay([reward], 1000n);
      // Spendable from height 1 + MATURITY: the next block is one too early.
      await r.growTo(MATURITY - 1);
      await rejectedEverywhere(r, tx, 'TX_IMMATURE_SPEND');
      await r.growTo(MATURITY);
      await acceptedEverywhere(r, tx);
      assert.equal(r.chain.tipHeight, 1 + MATURITY);
    }));

  it('TX_NOT_FINAL: a lock time above the block height; equal to it is accepted', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await coins(r, 2);
      const next = r.chain.tipHeight + 1;
      const late = r.tx([c1!], [toBob(c1!.output.amount - 1000n)], { lockTime: next + 1 });
      await rejectedEverywhere(r, late, 'TX_NOT_FINAL');
      const due = r.tx([c2!], [toBob(c2!.output.amount - 1000n)], { lockTime: next });
      await acceptedEverywhere(r, due);
    }));

  it('TX_INPUTS_BELOW_OUTPUTS: paying one unit more than the inputs; exactly equal connects', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await coins(r, 2);
      const over = r.tx([c1!], [toBob(c1!.output.amount + 1n)]);
      await rejectedEverywhere(r, over, 'TX_INPUTS_BELOW_OUTPUTS');
      // No fee is valid consensus (the mempool's fee floor is policy, not tested here).
      const even = r.tx([c2!], [toBob(c2!.output.amount)]);
      const block = await r.connect([even]);
      assert.equal(block.txs[0]!.outputs[0]!.amount, 50n * 100_000_000n);
    }));

  it('TX_WRONG_KEY: a valid signature by a key the lock does not name', () =>
    withRuleChain(async (r) => {
      const [c] = await coins(r);
      const tx = r.pay([{ ...c!, key: bob }]);
      await rejectedEverywhere(r, tx, 'TX_WRONG_KEY');
    }));

  it('TX_BAD_SIGNATURE: the right key, a signature over something else', () =>
    withRuleChain(async (r) => {
      const [c1, c2] = await coins(r, 2);
      // Signed as if the coin held one unit less: a fee lie the signature hash catches.
      const lie = r.tx([c1!], [toBob(c1!.output.amount - 1000n)]);
      const honest = r.tx(
        [{ ...c1!, output: { ...c1!.output, amount: c1!.output.amount - 1n } }],
        lie.outputs,
      );
      const forged = lie.withWitnesses(honest.witnesses);
      await rejectedEverywhere(r, forged, 'TX_BAD_SIGNATURE');
      // The second input's signature is the broken one: the first is checked and fine.
      const two = r.pay([c1!, c2!]);
      const bad = two.withWitnesses([
        two.witnesses[0]!,
        { ...two.witnesses[1]!, signature: two.witnesses[0]!.signature },
      ]);
      const error = await r.rejectsBlock(await r.block({ txs: [bad] }), 'TX_BAD_SIGNATURE');
      assert.equal(error.details['inputIndex'], 1);
      await r.rejectsTx(r.mempool(), bad, 'TX_BAD_SIGNATURE');
    }));

  it('validator key spends are no exception: the coinbase lock is checked like any other', () =>
    withRuleChain(async (r) => {
      await r.growTo(1 + MATURITY);
      const reward = await r.coinbaseOf(1);
      await rejectedEverywhere(r, r.pay([{ ...reward, key: alice }]), 'TX_WRONG_KEY');
      assert.equal(reward.key, validator);
    }));
});
