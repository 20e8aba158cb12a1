import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import {
  rejectsWith,
  SHORT_STAKING_PARAMS,
  StakingHarness,
  TEST_CHAIN_ID_HASH,
  twoValidators,
  validatorKeys,
} from '../../../test/support/staking-fixture.ts';
import { rollbackOne } from '../../../test/support/state-fixture.ts';
import { sign } from '../../crypto/signer.ts';
import { nobleVerifier } from '../../crypto/verifier.ts';
import { COIN, MAX_MONEY } from '../../primitives/amount.ts';
import { VoteType, voteDigest } from '../../primitives/commit.ts';
import { StateKeys } from '../../state/keys.ts';
import { bytesEqual } from '../../util/bytes.ts';
import {
  type DuplicateVoteEvidence,
  decodeEvidence,
  EVIDENCE_BYTES,
  encodeEvidence,
} from './evidence.ts';
import {
  decodeStakingPayload,
  encodeStakingPayload,
  type StakingPayload,
  StakingPayloadType,
} from './payload.ts';
import { decodeJail, decodeUnbonding } from './records.ts';
import { toValidatorSet, validatorIdOf } from './rules.ts';

const params = SHORT_STAKING_PARAMS;
const keys = validatorKeys();
const { op, cons } = keys;
const rejects = rejectsWith;

const tx = (p: StakingPayload) => encodeStakingPayload(p);

async function harness(): Promise<StakingHarness> {
  return StakingHarness.open(params, twoValidators(keys));
}

function evidence(
  key: ReturnType<typeof cons>,
  height: number,
  hashes: [Uint8Array, Uint8Array] = [new Uint8Array(32).fill(1), new Uint8Array(32).fill(2)],
): DuplicateVoteEvidence {
  const [a, b] = hashes;
  const sig = (h: Uint8Array) =>
    sign(voteDigest(TEST_CHAIN_ID_HASH, VoteType.prevote, height, 0, h), key.privateKey);
  return {
    voteType: VoteType.prevote,
    height,
    round: 0,
    consensusKey: key.publicKey,
    blockHashA: a,
    signatureA: sig(a),
    blockHashB: b,
    signatureB: sig(b),
  };
}

const powerOf = (
  members: { consensusKey: Uint8Array; power: bigint }[] | undefined,
  key: Uint8Array,
) => members?.find((m) => bytesEqual(m.consensusKey, key))?.power;

describe('staking payloads', () => {
  it('round-trip and reject any other length, zero amounts and off-curve keys', () => {
    const samples: StakingPayload[] = [
      { kind: 'bond', amount: 5n * COIN, consensusKey: cons('x').publicKey },
      { kind: 'unbond', amount: 1n },
      { kind: 'rotateKey', consensusKey: cons('y').publicKey },
      { kind: 'unjail' },
      { kind: 'withdraw', creationHeight: 77 },
    ];
    for (const p of samples) {
      const encoded = encodeStakingPayload(p);
      assert.deepEqual(decodeStakingPayload(encoded), p);
      const longer = { type: encoded.type, data: new Uint8Array([...encoded.data, 0]) };
      assert.throws(() => decodeStakingPayload(longer), rejects('STAKE_PAYLOAD_MALFORMED'));
    }
    const zero = tx({ kind: 'unbond', amount: 0n });
    assert.throws(() => decodeStakingPayload(zero), rejects('STAKE_PAYLOAD_MALFORMED'));
    const badKey = new Uint8Array(33).fill(0xff);
    badKey[0] = 2;
    const bond = {
      type: StakingPayloadType.bond,
      data: new Uint8Array([...new Uint8Array(8).fill(1), ...badKey]),
    };
    assert.throws(() => decodeStakingPayload(bond), rejects('STAKE_PAYLOAD_MALFORMED'));
    assert.throws(
      () => decodeStakingPayload({ type: 9, data: new Uint8Array(0) }),
      rejects('STAKE_PAYLOAD_MALFORMED'),
    );
  });

  it('evidence decodes strictly: exact size, ordered hashes', () => {
    const e = evidence(cons('a'), 3);
    const bytes = encodeEvidence(e);
    assert.equal(bytes.length, EVIDENCE_BYTES);
    assert.deepEqual(decodeEvidence(bytes), e);
    assert.throws(() => decodeEvidence(bytes.subarray(1)), rejects('EVIDENCE_MALFORMED'));
    const swapped = encodeEvidence({ ...e, blockHashA: e.blockHashB, blockHashB: e.blockHashA });
    assert.throws(() => decodeEvidence(swapped), rejects('EVIDENCE_MALFORMED'));
    const badType = new Uint8Array(bytes);
    badType[0] = 7;
    assert.throws(() => decodeEvidence(badType), rejects('EVIDENCE_MALFORMED'));
  });
});

describe('staking rules on a real state store', () => {
  let h: StakingHarness;
  afterEach(async () => {
    await h.close();
  });

  it('genesis bonds its validators and schedules the sets of heights 1 and 2', async () => {
    h = await harness();
    const one = await h.setAt(1);
    assert.deepEqual(one, await h.setAt(2));
    assert.equal(powerOf(one, cons('a').publicKey), 100n);
    assert.equal((await h.totals()).bonded, 150n * COIN);
    assert.ok(toValidatorSet(one!).hash.length === 32);
  });

  it('a bond made by block H changes the set of H+2, not H+1', async () => {
    h = await harness();
    const c = op('c');
    const effect = await h.block((b) =>
      b.applyTx(
        tx({ kind: 'bond', amount: 70n * COIN, consensusKey: cons('c').publicKey }),
        c.publicKey,
      ),
    );
    assert.deepEqual(effect, { valueIn: 0n, valueOut: 70n * COIN });
    assert.equal(powerOf(await h.setAt(2), cons('c').publicKey), undefined);
    assert.equal(powerOf(await h.setAt(3), cons('c').publicKey), 70n);
    assert.equal(await h.setAt(0), undefined);
    // A top-up by the same operator must name the same consensus key.
    await h.block((b) =>
      b.applyTx(
        tx({ kind: 'bond', amount: 5n * COIN, consensusKey: cons('c').publicKey }),
        c.publicKey,
      ),
    );
    assert.equal(powerOf(await h.setAt(4), cons('c').publicKey), 75n);
    await assert.rejects(
      h.block((b) =>
        b.applyTx(
          tx({ kind: 'bond', amount: COIN, consensusKey: cons('z').publicKey }),
          c.publicKey,
        ),
      ),
      rejects('STAKE_KEY_MISMATCH'),
    );
  });

  it('refuses bonds that break a rule, leaving no trace', async () => {
    h = await harness();
    await h.block(async (b) => {
      const before = await h.t.store.get(StateKeys.totals());
      await assert.rejects(
        b.applyTx(
          tx({ kind: 'bond', amount: COIN / 2n, consensusKey: cons('d').publicKey }),
          op('d').publicKey,
        ),
        rejects('STAKE_BELOW_MIN_BOND'),
      );
      await assert.rejects(
        b.applyTx(
          tx({ kind: 'bond', amount: COIN, consensusKey: cons('a').publicKey }),
          op('d').publicKey,
        ),
        rejects('STAKE_CONSENSUS_KEY_IN_USE'),
      );
      await assert.rejects(
        b.applyTx(tx({ kind: 'bond', amount: COIN, consensusKey: cons('d').publicKey }), null),
        rejects('STAKE_NO_OPERATOR'),
      );
      await assert.rejects(
        b.applyTx(tx({ kind: 'unbond', amount: COIN }), op('nobody').publicKey),
        rejects('STAKE_UNKNOWN_VALIDATOR'),
      );
      assert.deepEqual(await h.t.store.get(StateKeys.totals()), before);
    });
    assert.equal(
      await h.t.store.get(StateKeys.registry(validatorIdOf(op('d').publicKey))),
      undefined,
    );
  });

  it('unbonds into an entry that is withdrawable only after the unbonding period', async () => {
    h = await harness();
    const a = op('a').publicKey;
    await assert.rejects(
      h.block((b) => b.applyTx(tx({ kind: 'unbond', amount: 101n * COIN }), a)),
      rejects('STAKE_INSUFFICIENT_BOND'),
    );
    await h.block((b) => b.applyTx(tx({ kind: 'unbond', amount: 40n * COIN }), a));
    const created = h.height;
    assert.equal(powerOf(await h.setAt(created + 2), cons('a').publicKey), 60n);
    assert.deepEqual(await h.totals(), { bonded: 110n * COIN, unbonding: 40n * COIN, slashed: 0n });
    await assert.rejects(
      h.block((b) => b.applyTx(tx({ kind: 'withdraw', creationHeight: created }), a)),
      rejects('STAKE_UNBONDING_NOT_MATURE'),
    );
    const effect = await h.block(
      (b) => b.applyTx(tx({ kind: 'withdraw', creationHeight: created }), a),
      { advanceMs: params.unbondingPeriodMs },
    );
    assert.deepEqual(effect, { valueIn: 40n * COIN, valueOut: 0n });
    assert.equal((await h.totals()).unbonding, 0n);
    await assert.rejects(
      h.block((b) => b.applyTx(tx({ kind: 'withdraw', creationHeight: created }), a)),
      rejects('STAKE_UNKNOWN_UNBONDING'),
    );
  });

  it('rotates a consensus key at most once per unbonding period; old keys stay reserved', async () => {
    h = await harness();
    const a = op('a').publicKey;
    await h.block((b) =>
      b.applyTx(tx({ kind: 'rotateKey', consensusKey: cons('a2').publicKey }), a),
    );
    const set = await h.setAt(h.height + 2);
    assert.equal(powerOf(set, cons('a2').publicKey), 100n);
    assert.equal(powerOf(set, cons('a').publicKey), undefined);
    await assert.rejects(
      h.block((b) => b.applyTx(tx({ kind: 'rotateKey', consensusKey: cons('a3').publicKey }), a)),
      rejects('STAKE_ROTATION_TOO_SOON'),
    );
    await assert.rejects(
      h.block((b) => b.applyTx(tx({ kind: 'rotateKey', consensusKey: cons('a').publicKey }), a), {
        advanceMs: params.unbondingPeriodMs,
      }),
      rejects('STAKE_CONSENSUS_KEY_IN_USE'),
    );
    await h.block(
      (b) => b.applyTx(tx({ kind: 'rotateKey', consensusKey: cons('a3').publicKey }), a),
      { advanceMs: params.unbondingPeriodMs },
    );
  });

  it('jails a validator below the signed-blocks minimum, slashes 1%, and lets it unjail later', async () => {
    h = await harness();
    const b = validatorIdOf(op('b').publicKey);
    const set = (await h.setAt(1))!;
    const bIndex = set.findIndex((m) => bytesEqual(m.validatorId, b));
    const signed = set.map((_, i) => i !== bIndex);
    await h.block(async () => {}); // block 1 carries the genesis commit
    let jailedAt = -1;
    for (let i = 0; i < params.signedBlocksWindow; i++) {
      await h.block(async () => {}, { signed });
      if (jailedAt < 0 && (await h.t.store.get(StateKeys.jail(b))) !== undefined)
        jailedAt = h.height;
    }
    // Window 10, min 50%: jailed once 6 are missed and the window is full.
    assert.equal(jailedAt, 1 + params.signedBlocksWindow);
    const jail = decodeJail((await h.t.store.get(StateKeys.jail(b)))!);
    assert.equal(jail.tombstoned, false);
    assert.equal((await h.totals()).slashed, (50n * COIN) / 100n);
    assert.equal(powerOf(await h.setAt(jailedAt + 2), cons('b').publicKey), undefined);
    await assert.rejects(
      h.block((blk) => blk.applyTx(tx({ kind: 'unjail' }), op('b').publicKey)),
      rejects('STAKE_JAIL_NOT_EXPIRED'),
    );
    await assert.rejects(
      h.block((blk) => blk.applyTx(tx({ kind: 'unjail' }), op('a').publicKey)),
      rejects('STAKE_NOT_JAILED'),
    );
    await h.block((blk) => blk.applyTx(tx({ kind: 'unjail' }), op('b').publicKey), {
      advanceMs: params.downtimeJailMs,
    });
    assert.equal(powerOf(await h.setAt(h.height + 2), cons('b').publicKey), 49n);
  });

  it('duplicate-vote evidence slashes 5% of bonded and unbonding stake and tombstones', async () => {
    h = await harness();
    const a = op('a').publicKey;
    await h.block((b) => b.applyTx(tx({ kind: 'unbond', amount: 20n * COIN }), a));
    const unbondHeight = h.height;
    const ev = evidence(cons('a'), 1);
    const jobs = await h.block((b) => b.applyEvidence(ev, h.times[1]!));
    assert.equal(jobs.length, 2);
    for (const job of jobs) assert.ok(nobleVerifier.verify(job.msg, job.sig, job.pub));
    const totals = await h.totals();
    assert.equal(totals.slashed, (80n * COIN * 5n) / 100n + (20n * COIN * 5n) / 100n);
    assert.equal(totals.bonded, 76n * COIN + 50n * COIN);
    const entry = decodeUnbonding(
      (await h.t.store.get(StateKeys.unbonding(validatorIdOf(a), unbondHeight)))!,
    );
    assert.equal(entry.amount, 19n * COIN);
    assert.equal(powerOf(await h.setAt(h.height + 2), cons('a').publicKey), undefined);
    await assert.rejects(
      h.block((b) => b.applyEvidence(ev, h.times[1]!)),
      rejects('EVIDENCE_ALREADY_TOMBSTONED'),
    );
    await assert.rejects(
      h.block((b) => b.applyTx(tx({ kind: 'unjail' }), a), {
        advanceMs: 10 * params.downtimeJailMs,
      }),
      rejects('STAKE_TOMBSTONED'),
    );
    await assert.rejects(
      h.block((b) => b.applyEvidence(evidence(cons('nobody'), 1), h.times[1]!)),
      rejects('EVIDENCE_UNKNOWN_VALIDATOR'),
    );
    await assert.rejects(
      h.block((b) => b.applyEvidence(evidence(cons('b'), h.height + 1), h.timeMs)),
      rejects('EVIDENCE_FROM_FUTURE'),
    );
  });

  it('evidence expires only when older than both the block and the time limit', async () => {
    h = await StakingHarness.open(
      { ...params, evidenceMaxAgeBlocks: 3, evidenceMaxAgeMs: 60_000 },
      [
        { operatorKey: op('a').publicKey, consensusKey: cons('a').publicKey, bonded: 10n * COIN },
        { operatorKey: op('b').publicKey, consensusKey: cons('b').publicKey, bonded: 10n * COIN },
      ],
    );
    for (let i = 0; i < 5; i++) await h.block(async () => {});
    // Old in blocks (5 > 3) but young in time (5 s): still valid.
    await h.block((b) => b.applyEvidence(evidence(cons('a'), 1), h.times[1]!));
    // Old in both: expired.
    await assert.rejects(
      h.block((b) => b.applyEvidence(evidence(cons('b'), 1), h.times[1]!), { advanceMs: 120_000 }),
      rejects('EVIDENCE_EXPIRED'),
    );
    // Old in time, young in blocks: valid.
    await h.block((b) => b.applyEvidence(evidence(cons('b'), h.height), h.times[h.height]!), {
      advanceMs: 120_000,
    });
  });

  it('keeps the top validators by power, ties broken by validator id', async () => {
    h = await StakingHarness.open({ ...params, maxValidators: 2 }, [
      { operatorKey: op('a').publicKey, consensusKey: cons('a').publicKey, bonded: 10n * COIN },
      { operatorKey: op('b').publicKey, consensusKey: cons('b').publicKey, bonded: 10n * COIN },
      { operatorKey: op('c').publicKey, consensusKey: cons('c').publicKey, bonded: 10n * COIN },
    ]);
    const ids = ['a', 'b', 'c'].map((n) => ({ n, id: validatorIdOf(op(n).publicKey) }));
    ids.sort((x, y) => Buffer.compare(x.id, y.id));
    const chosen = (await h.setAt(1))!.map((m) => m.validatorId);
    assert.equal(chosen.length, 2);
    assert.ok(chosen.every((id) => !bytesEqual(id, ids[2]!.id)));
    // The left-out validator bonds more and takes a seat at H+2.
    await h.block((b) =>
      b.applyTx(
        tx({ kind: 'bond', amount: COIN, consensusKey: cons(ids[2]!.n).publicKey }),
        op(ids[2]!.n).publicKey,
      ),
    );
    const after = (await h.setAt(h.height + 2))!;
    assert.equal(powerOf(after, cons(ids[2]!.n).publicKey), 11n);
    assert.equal(powerOf(after, cons(ids[1]!.n).publicKey), undefined);
  });

  it('a staking block rolls back to the exact previous root', async () => {
    h = await harness();
    await h.block(async () => {});
    const before = h.t.store.root;
    await h.block(async (b) => {
      await b.applyTx(tx({ kind: 'unbond', amount: 3n * COIN }), op('a').publicKey);
      await b.applyEvidence(evidence(cons('b'), 1), h.times[1]!);
    });
    assert.notDeepEqual(h.t.store.root, before);
    assert.deepEqual(await rollbackOne(h.t), before);
    assert.deepEqual(await h.totals(), { bonded: 150n * COIN, unbonding: 0n, slashed: 0n });
  });

  it('hands back evidence signatures that fail when forged, and checks the signer flags', async () => {
    h = await harness();
    await h.block(async () => {});
    const forged = { ...evidence(cons('a'), 1), signatureB: evidence(cons('b'), 1).signatureB };
    const jobs = await h.block((b) => b.applyEvidence(forged, h.times[1]!));
    assert.deepEqual(
      jobs.map((j) => nobleVerifier.verify(j.msg, j.sig, j.pub)),
      [true, false],
    );
    await assert.rejects(
      h.block(async () => {}, { signed: [true] }),
      RangeError,
    );
  });

  it('refuses stake that would take a total above the money limit', async () => {
    h = await harness();
    const c = op('c');
    await assert.rejects(
      h.block((b) =>
        b.applyTx(
          tx({ kind: 'bond', amount: MAX_MONEY, consensusKey: cons('c').publicKey }),
          c.publicKey,
        ),
      ),
      rejects('STAKE_AMOUNT_OUT_OF_RANGE'),
    );
  });

  it('refuses evidence of two votes for one block: that is not equivocation', async () => {
    h = await harness();
    await h.block(async () => {});
    const same = new Uint8Array(32).fill(3);
    const ev = evidence(cons('a'), 1, [same, same]);
    await assert.rejects(
      h.block((b) => b.applyEvidence(ev, h.times[1]!)),
      rejects('EVIDENCE_NOT_CONFLICTING'),
    );
  });
});
