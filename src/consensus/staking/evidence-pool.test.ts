import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testKey } from '../../../test/support/chain-fixture.ts';
import { rejectsWith } from '../../../test/support/staking-fixture.ts';
import { sign } from '../../crypto/signer.ts';
import { ParallelVerifier } from '../../crypto/verify-pool.ts';
import { VoteType, voteDigest } from '../../primitives/commit.ts';
import { compareBytes } from '../../util/bytes.ts';
import { ValidatorSet } from '../validator-set.ts';
import type { DuplicateVoteEvidence } from './evidence.ts';
import { EVIDENCE_BYTES, isEvidenceExpired } from './evidence.ts';
import { type EvidenceContext, EvidencePool } from './evidence-pool.ts';

const chainIdHash = new Uint8Array(32).fill(7);
const signer = testKey(40);
const outsider = testKey(41);
const set = new ValidatorSet([
  { publicKey: signer.publicKey, power: 10n },
  { publicKey: testKey(42).publicKey, power: 10n },
]);

/** Two real precommits of `key` at `height` for two different blocks, in canonical order. */
function equivocation(
  key = signer,
  height = 5,
  opts: { forgeB?: boolean } = {},
): DuplicateVoteEvidence {
  const hashes = [new Uint8Array(32).fill(height), new Uint8Array(32).fill(200 + (height % 50))];
  hashes.sort(compareBytes);
  const sig = (h: Uint8Array) =>
    sign(voteDigest(chainIdHash, VoteType.precommit, height, 0, h), key.privateKey);
  return {
    voteType: VoteType.precommit,
    height,
    round: 0,
    consensusKey: key.publicKey,
    blockHashA: hashes[0]!,
    signatureA: sig(hashes[0]!),
    blockHashB: hashes[1]!,
    // A signature over block A presented as the vote for B: well-formed, does not verify.
    signatureB: opts.forgeB ? sig(hashes[0]!) : sig(hashes[1]!),
  };
}

const code = rejectsWith;

describe('EvidencePool', () => {
  let verifier: ParallelVerifier;
  let ctx: EvidenceContext;
  before(async () => {
    verifier = await ParallelVerifier.init({ workers: 0 });
    ctx = {
      chainIdHash,
      validatorsAt: () => set,
      tipHeight: 100,
      verifier,
    };
  });
  after(() => verifier.close());

  it('keeps verified evidence once per equivocation', async () => {
    const pool = new EvidencePool();
    assert.equal(await pool.add(equivocation(), ctx), true);
    assert.equal(await pool.add(equivocation(), ctx), false);
    assert.equal(pool.size, 1);
  });

  it('EVIDENCE_BAD_SIGNATURE: a vote signature that does not verify keeps it out', async () => {
    const pool = new EvidencePool();
    await assert.rejects(
      pool.add(equivocation(signer, 6, { forgeB: true }), ctx),
      code('EVIDENCE_BAD_SIGNATURE'),
    );
    assert.equal(pool.size, 0);
  });

  it('refuses a key outside the set of that height, and a height above the one in progress', async () => {
    const pool = new EvidencePool();
    await assert.rejects(pool.add(equivocation(outsider), ctx), code('EVIDENCE_UNKNOWN_VALIDATOR'));
    assert.equal(await pool.add(equivocation(signer, 101), ctx), true, 'the height in progress');
    await assert.rejects(pool.add(equivocation(signer, 102), ctx), code('EVIDENCE_FROM_FUTURE'));
    const same = { ...equivocation(), blockHashB: equivocation().blockHashA };
    await assert.rejects(pool.add(same, ctx), code('EVIDENCE_NOT_CONFLICTING'));
    assert.equal(pool.size, 1);
  });

  it('is bounded (the oldest height leaves first), hands out evidence by bytes, forgets committed and expired', async () => {
    const pool = new EvidencePool({ maxEntries: 3 });
    for (const h of [9, 3, 7, 5]) await pool.add(equivocation(signer, h), ctx);
    assert.deepEqual(
      pool.pending(10 * EVIDENCE_BYTES).map((e) => e.height),
      [5, 7, 9],
    );
    assert.deepEqual(
      pool.pending(2 * EVIDENCE_BYTES + 1).map((e) => e.height),
      [5, 7],
    );
    pool.remove([equivocation(signer, 7)]);
    assert.equal(pool.size, 2);
    const timeOf = (h: number) => h * 1000;
    // Old in blocks but not in time: kept; old in both: dropped.
    assert.equal(pool.prune({ height: 100, timeMs: 9_500 }, { blocks: 10, ms: 5_000 }, timeOf), 0);
    assert.equal(pool.prune({ height: 100, timeMs: 50_000 }, { blocks: 10, ms: 5_000 }, timeOf), 2);
    assert.equal(pool.size, 0);
  });

  it('refuses a bound that is not a positive integer', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => new EvidencePool({ maxEntries }), RangeError);
    }
    assert.equal(new EvidencePool({ maxEntries: 1 }).size, 0);
  });

  it('hands out whole pieces only: nothing below one piece or for a negative budget', async () => {
    const pool = new EvidencePool();
    for (const h of [4, 8]) await pool.add(equivocation(signer, h), ctx);
    assert.deepEqual(pool.pending(EVIDENCE_BYTES - 1), []);
    assert.deepEqual(pool.pending(-EVIDENCE_BYTES), []);
    assert.deepEqual(
      pool.pending(EVIDENCE_BYTES).map((e) => e.height),
      [4],
    );
    assert.deepEqual(
      pool.pending(2 * EVIDENCE_BYTES).map((e) => e.height),
      [4, 8],
    );
  });

  it('keeps evidence whose height has no known time when pruning', async () => {
    const pool = new EvidencePool();
    await pool.add(equivocation(signer, 2), ctx);
    await pool.add(equivocation(signer, 3), ctx);
    const timeOf = (h: number) => (h === 2 ? 0 : undefined);
    assert.equal(pool.prune({ height: 1_000, timeMs: 1e12 }, { blocks: 1, ms: 1 }, timeOf), 1);
    assert.deepEqual(
      pool.pending(10 * EVIDENCE_BYTES).map((e) => e.height),
      [3],
    );
  });

  it('one bound per pool: a full pool drops its single oldest height, never the newcomer', async () => {
    const pool = new EvidencePool({ maxEntries: 1 });
    assert.equal(await pool.add(equivocation(signer, 5), ctx), true);
    assert.equal(await pool.add(equivocation(signer, 9), ctx), true);
    assert.deepEqual(
      pool.pending(10 * EVIDENCE_BYTES).map((e) => e.height),
      [9],
    );
  });
});

describe('EvidencePool bound, ties', () => {
  it('drops the first pooled of two pieces at the lowest height', async () => {
    const verifier = await ParallelVerifier.init({ workers: 0 });
    try {
      const ctx: EvidenceContext = {
        chainIdHash,
        validatorsAt: () => set,
        tipHeight: 100,
        verifier,
      };
      const pool = new EvidencePool({ maxEntries: 2 });
      const first = equivocation(signer, 5);
      const second = equivocation(testKey(42), 5);
      for (const e of [first, second, equivocation(signer, 9)]) await pool.add(e, ctx);
      const kept = pool.pending(10 * EVIDENCE_BYTES);
      assert.deepEqual(
        kept.map((e) => [e.height, e.consensusKey]),
        [
          [5, second.consensusKey],
          [9, signer.publicKey],
        ],
      );
    } finally {
      await verifier.close();
    }
  });
});

describe('isEvidenceExpired', () => {
  const maxAge = { blocks: 10, ms: 5_000 };
  it('expires strictly past both ages, never at either boundary', () => {
    // Evidence of height 100 seen at t = 1000.
    const at = (height: number, timeMs: number) =>
      isEvidenceExpired(100, 1_000, { height, timeMs }, maxAge);
    assert.equal(at(111, 6_001), true);
    assert.equal(at(110, 6_001), false, 'exactly maxAge.blocks old');
    assert.equal(at(111, 6_000), false, 'exactly maxAge.ms old');
    assert.equal(at(110, 6_000), false);
    assert.equal(at(500, 1_000), false, 'old in blocks only');
    assert.equal(at(100, 1e9), false, 'old in time only');
  });
});
