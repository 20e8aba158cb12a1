/**
 * A small staking history over a real state store, run through the real
 * rules: four validators; `a` unbonds twice, `c` misses three blocks, `d`
 * misses until it is jailed, `b` is caught double-signing (slashed and
 * tombstoned). Read by the staking query and API tests.
 */

import { readValidatorSet } from '../../src/consensus/staking/ledger.ts';
import type { StakingParams } from '../../src/consensus/staking/params.ts';
import { encodeStakingPayload } from '../../src/consensus/staking/payload.ts';
import { validatorIdOf } from '../../src/consensus/staking/rules.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { StateKeys } from '../../src/state/keys.ts';
import { bytesEqual } from '../../src/util/bytes.ts';
import {
  duplicateVotes,
  SHORT_STAKING_PARAMS,
  StakingHarness,
  stakingKey,
} from './staking-fixture.ts';

export const SCENARIO_PARAMS: StakingParams = SHORT_STAKING_PARAMS;

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
  readonly d: ScenarioValidator;
  /** Heights of a's two unbonding entries and their amounts. */
  readonly unbonds: ReadonlyArray<{ height: number; amount: bigint }>;
  /** Blocks c missed in its window. */
  readonly cMissed: number;
}

function validator(name: string, consensus?: KeyPair): ScenarioValidator {
  const operator = stakingKey(`scenario operator ${name}`);
  return {
    operator,
    consensus: consensus ?? stakingKey(`scenario consensus ${name}`),
    id: validatorIdOf(operator.publicKey),
  };
}

/**
 * @param consensusA  a's consensus key: a test chain's validator key, so the
 *                    chain's set and the registry name the same validator.
 */
export async function runStakingScenario(consensusA?: KeyPair): Promise<StakingScenario> {
  const a = validator('a', consensusA);
  const b = validator('b');
  const c = validator('c');
  const d = validator('d');
  const h = await StakingHarness.open(
    SCENARIO_PARAMS,
    [a, b, c, d].map((v, i) => ({
      operatorKey: v.operator.publicKey,
      consensusKey: v.consensus.publicKey,
      bonded: BigInt(100 - i * 20) * COIN,
    })),
  );
  // Signer flags for the last commit: everyone in the previous height's set but `absent`.
  const signedBut = async (...absent: ScenarioValidator[]) => {
    const set = (await readValidatorSet(h.t.store, h.height)) ?? [];
    return set.map((m) => !absent.some((v) => bytesEqual(m.consensusKey, v.consensus.publicKey)));
  };
  await h.block(async () => {}); // block 1 carries the genesis commit
  const unbonds: Array<{ height: number; amount: bigint }> = [];
  for (const amount of [20n * COIN, 5n * COIN]) {
    await h.block(
      (blk) => blk.applyTx(encodeStakingPayload({ kind: 'unbond', amount }), a.operator.publicKey),
      { signed: await signedBut(c, d) },
    );
    unbonds.push({ height: h.height, amount });
  }
  await h.block((blk) => blk.applyEvidence(duplicateVotes(b.consensus, 1), h.times[1]!), {
    signed: await signedBut(c, d),
  });
  for (let i = 0; i < 4 * SCENARIO_PARAMS.signedBlocksWindow; i++) {
    if ((await h.t.store.get(StateKeys.jail(d.id))) !== undefined) break;
    await h.block(async () => {}, { signed: await signedBut(d) });
  }
  if ((await h.t.store.get(StateKeys.jail(d.id))) === undefined)
    throw new Error('scenario: d was never jailed');
  return { h, a, b, c, d, unbonds, cMissed: 3 };
}
