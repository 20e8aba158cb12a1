/**
 * A small staking history over a real state store, run through the real
 * rules: three validators; `a` unbonds twice, `c` misses blocks, `b` is
 * caught double-signing (slashed and tombstoned). Read by the staking query
 * and API tests.
 */

import type { DuplicateVoteEvidence } from '../../src/consensus/staking/evidence.ts';
import { readValidatorSet } from '../../src/consensus/staking/ledger.ts';
import { DEFAULT_STAKING_PARAMS, type StakingParams } from '../../src/consensus/staking/params.ts';
import { encodeStakingPayload } from '../../src/consensus/staking/payload.ts';
import { validatorIdOf } from '../../src/consensus/staking/rules.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { sign } from '../../src/crypto/signer.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { VoteType, voteDigest } from '../../src/primitives/commit.ts';
import { bytesEqual } from '../../src/util/bytes.ts';
import { StakingHarness, stakingKey, TEST_CHAIN_ID_HASH } from './staking-fixture.ts';

export const SCENARIO_PARAMS: StakingParams = {
  ...DEFAULT_STAKING_PARAMS,
  unbondingPeriodMs: 10_000,
  signedBlocksWindow: 10,
  downtimeJailMs: 5_000,
};

export interface ScenarioValidator {
  readonly operator: KeyPair;
  readonly consensus: KeyPair;
  readonly id: Uint8Array;
}

export interface StakingScenario {
  readonly h: StakingHarness;
  readonly a: ScenarioValidator;
  readonly b: ScenarioValidator;
  readonly c: ScenarioValidator;
  /** Heights of a's two unbonding entries and their amounts. */
  readonly unbonds: ReadonlyArray<{ height: number; amount: bigint }>;
  /** Blocks c missed in its window. */
  readonly cMissed: number;
}

function validator(name: string): ScenarioValidator {
  const operator = stakingKey(`scenario operator ${name}`);
  return {
    operator,
    consensus: stakingKey(`scenario consensus ${name}`),
    id: validatorIdOf(operator.publicKey),
  };
}

function duplicateVotes(key: KeyPair, height: number): DuplicateVoteEvidence {
  const a = new Uint8Array(32).fill(1);
  const b = new Uint8Array(32).fill(2);
  const sig = (hash: Uint8Array) =>
    sign(voteDigest(TEST_CHAIN_ID_HASH, VoteType.prevote, height, 0, hash), key.privateKey);
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

export async function runStakingScenario(): Promise<StakingScenario> {
  const a = validator('a');
  const b = validator('b');
  const c = validator('c');
  const h = await StakingHarness.open(
    SCENARIO_PARAMS,
    [a, b, c].map((v, i) => ({
      operatorKey: v.operator.publicKey,
      consensusKey: v.consensus.publicKey,
      bonded: BigInt(100 - i * 20) * COIN,
    })),
  );
  // Everyone signed except c, from the set of the previous height.
  const signedButC = async () => {
    const set = (await readValidatorSet(h.t.store, h.height)) ?? [];
    return set.map((m) => !bytesEqual(m.consensusKey, c.consensus.publicKey));
  };
  await h.block(async () => {}); // block 1 carries the genesis commit
  const unbonds: Array<{ height: number; amount: bigint }> = [];
  for (const amount of [20n * COIN, 5n * COIN]) {
    await h.block(
      (blk) => blk.applyTx(encodeStakingPayload({ kind: 'unbond', amount }), a.operator.publicKey),
      { signed: await signedButC() },
    );
    unbonds.push({ height: h.height, amount });
  }
  await h.block((blk) => blk.applyEvidence(duplicateVotes(b.consensus, 1), h.times[1]!), {
    signed: await signedButC(),
  });
  return { h, a, b, c, unbonds, cMissed: 3 };
}
