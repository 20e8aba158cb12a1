import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { verifyChain } from '../../src/chain/verify-chain.ts';
import { SignatureChecker } from '../../src/consensus/signatures.ts';
import { readTotals } from '../../src/consensus/staking/ledger.ts';
import { StakingQueriesFromState } from '../../src/consensus/staking/queries.ts';
import { validatorIdOf } from '../../src/consensus/staking/rules.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { sign } from '../../src/crypto/signer.ts';
import { VoteType, voteDigest } from '../../src/primitives/commit.ts';
import {
  type DuplicateVoteEvidence,
  EVIDENCE_BYTES,
  evidenceRoot,
} from '../../src/primitives/evidence.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { Bucket, metaKey } from '../../src/storage/buckets.ts';
import { compareBytes, toHex } from '../../src/util/bytes.ts';
import { alice, type RuleChain, validator, withRuleChain } from '../support/rule-fixture.ts';

/** Two prevotes of `key` at `height`, round 0, for two different blocks: one equivocation. */
function equivocation(
  r: RuleChain,
  key: KeyPair,
  height: number,
  label = 'x',
  round = 0,
): DuplicateVoteEvidence {
  const [a, b] = [sha256(Uint8Array.of(1, ...Buffer.from(label))), sha256(Uint8Array.of(2))].sort(
    compareBytes,
  ) as [Uint8Array, Uint8Array];
  const vote = (hash: Uint8Array) =>
    sign(voteDigest(r.chain.chainIdHash, VoteType.prevote, height, round, hash), key.privateKey);
  return {
    voteType: VoteType.prevote,
    height,
    round,
    consensusKey: key.publicKey,
    blockHashA: a,
    signatureA: vote(a),
    blockHashB: b,
    signatureB: vote(b),
  };
}

/** Every chain record but the tip's MuHash state (its form depends on insert order). */
async function records(r: RuleChain): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for await (const [k, v] of r.t.db.range(Uint8Array.of(0), Uint8Array.of(0xff))) {
    if (k[0] === Bucket.signerState || k[0] === Bucket.audit) continue;
    if (toHex(k) !== toHex(metaKey('tip'))) out.set(toHex(k), toHex(v));
  }
  return out;
}

async function stakeOf(r: RuleChain) {
  const q = new StakingQueriesFromState(
    { params: r.chain.params.staking },
    { state: r.chain.state },
  );
  const v = await q.validator(validatorIdOf(validator.publicKey));
  assert.ok(v !== undefined);
  return v;
}

describe('evidence committed in blocks', () => {
  it('slashes 5% (burned), tombstones, and the equivocation is never committed twice', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const before = await stakeOf(r);
      const totalsBefore = await readTotals(r.chain.state);
      const evidence = equivocation(r, validator, 2);
      await r.connect([], { evidence: [evidence] });
      const after = await stakeOf(r);
      assert.equal(after.tombstoned, true);
      assert.equal(after.bonded, before.bonded - (before.bonded * 500n) / 10_000n);
      const totals = await readTotals(r.chain.state);
      assert.equal(totals.slashed - totalsBefore.slashed, before.bonded - after.bonded);
      const stored = await r.chain.requireBlockAt(r.chain.tipHeight);
      assert.deepEqual(stored.evidence, [evidence], 'the stored block keeps its evidence');

      // The same equivocation again, in a later block: refused before the tombstone rule.
      await r.rejectsBlock(await r.block({ evidence: [evidence] }), 'BLOCK_EVIDENCE_DUPLICATE');
      // Another equivocation of the tombstoned validator: refused too.
      await r.rejectsBlock(
        await r.block({ evidence: [equivocation(r, validator, 3)] }),
        'EVIDENCE_ALREADY_TOMBSTONED',
      );
      // The replay checks the evidence again, signatures included.
      const checker = new SignatureChecker({ verifier: r.t.verifier, cache: null });
      const result = await verifyChain(r.chain, {
        full: true,
        scanUtxos: true,
        signatures: checker,
      });
      assert.equal(result.toHeight, r.chain.tipHeight);
    }));

  it('BLOCK_EVIDENCE_DUPLICATE: one equivocation twice in one block', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const e = equivocation(r, validator, 2);
      await r.rejectsBlock(await r.block({ evidence: [e, e] }), 'BLOCK_EVIDENCE_DUPLICATE');
    }));

  it('BLOCK_BAD_EVIDENCE_ROOT: a header that does not commit to the evidence', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const e = equivocation(r, validator, 2);
      await r.rejectsBlock(
        await r.block({ evidence: [e], header: { evidenceRoot: new Uint8Array(32) } }),
        'BLOCK_BAD_EVIDENCE_ROOT',
      );
      await r.rejectsBlock(
        await r.block({ header: { evidenceRoot: evidenceRoot([e]) } }),
        'BLOCK_BAD_EVIDENCE_ROOT',
      );
    }));

  it('BLOCK_EVIDENCE_TOO_LARGE: more evidence bytes than the genesis parameter', () =>
    withRuleChain(async (r) => {
      await r.growTo(3);
      const max = r.chain.params.staking.maxBlockEvidenceBytes;
      const count = Math.floor(max / EVIDENCE_BYTES) + 1;
      const many = Array.from({ length: count }, (_, i) =>
        equivocation(r, validator, 2, `x${i}`, i),
      );
      await r.rejectsBlock(await r.block({ evidence: many }), 'BLOCK_EVIDENCE_TOO_LARGE');
    }));

  it('EVIDENCE_BAD_SIGNATURE, EVIDENCE_FROM_FUTURE, EVIDENCE_UNKNOWN_VALIDATOR', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const good = equivocation(r, validator, 2);
      const forged = { ...good, signatureB: good.signatureA };
      await r.rejectsBlock(await r.block({ evidence: [forged] }), 'EVIDENCE_BAD_SIGNATURE');
      await r.rejectsBlock(
        await r.block({ evidence: [equivocation(r, validator, 3)] }),
        'EVIDENCE_FROM_FUTURE',
      );
      const outsider = equivocation(r, alice, 2);
      await r.rejectsBlock(await r.block({ evidence: [outsider] }), 'EVIDENCE_UNKNOWN_VALIDATOR');
    }));

  it('rollback undoes the slash, the tombstone and the committed record; the block connects again', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const before = await records(r);
      const stake = await stakeOf(r);
      const block = await r.block({ evidence: [equivocation(r, validator, 2)] });
      await r.chain.connectBlock(block, r.commit(block), { now: null });
      assert.notDeepEqual(await records(r), before);
      await r.chain.disconnectTip();
      assert.deepEqual(await records(r), before);
      assert.deepEqual(await stakeOf(r), stake);
      await r.chain.connectBlock(block, r.commit(block), { now: null });
      assert.equal((await stakeOf(r)).tombstoned, true);
    }));

  it('the assembler includes pool evidence and leaves out what the chain would refuse', () =>
    withRuleChain(async (r) => {
      await r.growTo(2);
      const e = equivocation(r, validator, 2);
      const future = equivocation(r, validator, 5);
      const block = await assembleBlock(r.chain, {
        txs: [],
        fees: 0n,
        proposer: validator.publicKey,
        rewardLock: pubkeyLock(validator.publicKey),
        time: r.chain.tip.header.time + 1000,
        evidence: [future, e, e],
      });
      assert.deepEqual(block.evidence, [e]);
      await r.chain.connectBlock(block, r.commit(block), { now: null });
      assert.equal((await stakeOf(r)).tombstoned, true);
    }));
});
