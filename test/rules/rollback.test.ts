import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Bucket, metaKey } from '../../src/storage/buckets.ts';
import { toHex } from '../../src/util/bytes.ts';
import { alice, type Owned, type RuleChain, withRuleChain } from '../support/rule-fixture.ts';

// Rolling back a block (`utxod rollback`, Chain.disconnectTip) must restore
// exactly the chain before it: the UTXO commitment and every record. The
// coins a block leaves are its outputs not spent within the block, so a block
// whose second transaction spends the first one's output is the case where
// "created" and "all outputs" differ.

const TIP = toHex(metaKey('tip'));

/**
 * Every chain record but the tip's: the tip stores the MuHash state, whose
 * numerator/denominator pair depends on the order of inserts and removes (as
 * in Bitcoin Core), so only its finalized root is compared after a rollback.
 */
async function records(r: RuleChain): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of r.t.db.range(Uint8Array.of(0), Uint8Array.of(0xff))) {
    if (k[0] === Bucket.signerState || k[0] === Bucket.audit) continue;
    if (toHex(k) !== TIP) out.set(toHex(k), toHex(v));
  }
  return out;
}

async function state(r: RuleChain) {
  const { tipHeight, tipHash, utxoRoot } = await r.snapshot();
  return { tipHeight, tipHash, utxoRoot, records: await records(r) };
}

describe('rollback of a block with a spend inside the block', () => {
  it('restores every record and the UTXO commitment, and the block connects again', () =>
    withRuleChain(async (r) => {
      const [coin] = await r.genesisCoins();
      const parent = r.pay([coin!], 1000n, alice);
      const inBlock: Owned = {
        outpoint: { txid: parent.txid, index: 0 },
        output: parent.outputs[0]!,
        key: alice,
      };
      const child = r.pay([inBlock]);
      const before = await state(r);

      const block = await r.connect([parent, child]);
      const connected = await state(r);
      const [spentInBlock, left] = await r.chain.getCoins([
        inBlock.outpoint,
        { txid: child.txid, index: 0 },
      ]);
      assert.equal(spentInBlock, undefined);
      assert.equal(left?.amount, child.outputs[0]!.amount);

      await r.chain.disconnectTip();
      assert.deepEqual(await state(r), before);
      const [genesisCoin, gone] = await r.chain.getCoins([
        coin!.outpoint,
        { txid: child.txid, index: 0 },
      ]);
      assert.equal(genesisCoin?.amount, coin!.output.amount);
      assert.equal(gone, undefined);

      // The same block is valid again on the restored tip.
      await r.chain.connectBlock(block, r.commit(block), { now: null });
      assert.deepEqual(await state(r), connected);
    }));
});
