/** Staking rules over a real state store on LevelDB, one committed block at a time. */

import assert from 'node:assert/strict';
import type { Genesis } from '../../src/chain/genesis.ts';
import { VerificationError } from '../../src/consensus/errors.ts';
import type { DuplicateVoteEvidence } from '../../src/consensus/staking/evidence.ts';
import { readTotals, readValidatorSet } from '../../src/consensus/staking/ledger.ts';
import { DEFAULT_STAKING_PARAMS, type StakingParams } from '../../src/consensus/staking/params.ts';
import type { SetMember, Totals } from '../../src/consensus/staking/records.ts';
import {
  type GenesisValidator,
  StakingBlock,
  writeGenesisStaking,
} from '../../src/consensus/staking/rules.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { getPublicKey, sign } from '../../src/crypto/signer.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { VoteType, voteDigest } from '../../src/primitives/commit.ts';
import { commitOverlay, newOverlay, openTestState, type TestState } from './state-fixture.ts';

export function stakingKey(label: string): KeyPair {
  const privateKey = sha256(new TextEncoder().encode(`utxod staking test key ${label}`));
  return { privateKey, publicKey: getPublicKey(privateKey) };
}

/**
 * Operator and consensus keys of test validators by name (`op('a')`,
 * `cons('a')`); `label` keeps one file's keys apart from another's.
 */
export function validatorKeys(label?: string): {
  op: (name: string) => KeyPair;
  cons: (name: string) => KeyPair;
} {
  const prefix = label === undefined ? '' : `${label} `;
  return {
    op: (name) => stakingKey(`${prefix}operator ${name}`),
    cons: (name) => stakingKey(`${prefix}consensus ${name}`),
  };
}

/** The usual genesis: validator a bonds 100 coins, b 50, so a alone holds exactly 2/3 of the power. */
export function twoValidators(keys: ReturnType<typeof validatorKeys>): GenesisValidator[] {
  const { op, cons } = keys;
  return [
    { operatorKey: op('a').publicKey, consensusKey: cons('a').publicKey, bonded: 100n * COIN },
    { operatorKey: op('b').publicKey, consensusKey: cons('b').publicKey, bonded: 50n * COIN },
  ];
}

/** For `assert.rejects`/`assert.throws`: a VerificationError carrying exactly `code`. */
export function rejectsWith(code: string): (error: unknown) => true {
  return (error) => {
    assert.ok(
      error instanceof VerificationError,
      `expected VerificationError, got ${String(error)}`,
    );
    assert.equal(error.code, code, error.message);
    return true;
  };
}

/** A test chain's genesis with staking switched on under `staking`. */
export function withStaking(genesis: Genesis, staking: StakingParams): Genesis {
  return { ...genesis, params: { ...genesis.params, staking } };
}

export const TEST_CHAIN_ID_HASH = sha256(new TextEncoder().encode('staking-test-chain'));

/** Short periods and a small window, so a test reaches every staking state in a few blocks. */
export const SHORT_STAKING_PARAMS: StakingParams = {
  ...DEFAULT_STAKING_PARAMS,
  unbondingPeriodMs: 10_000,
  signedBlocksWindow: 10,
  downtimeJailMs: 5_000,
};

/** Two prevotes of `key` at `height`, round 0, for two different blocks: valid evidence. */
export function duplicateVotes(key: KeyPair, height: number): DuplicateVoteEvidence {
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

export class StakingHarness {
  readonly t: TestState;
  readonly params: StakingParams;
  timeMs: number;
  /** Header time of each committed height, for evidence age. */
  readonly times: number[] = [];

  private constructor(t: TestState, params: StakingParams, timeMs: number) {
    this.t = t;
    this.params = params;
    this.timeMs = timeMs;
  }

  static async open(
    params: StakingParams,
    validators: readonly GenesisValidator[],
    genesisTimeMs = 1_700_000_000_000,
  ): Promise<StakingHarness> {
    const t = await openTestState(4);
    const h = new StakingHarness(t, params, genesisTimeMs);
    const overlay = newOverlay(t);
    await writeGenesisStaking(overlay, params, validators);
    await commitOverlay(t, overlay);
    h.times.push(genesisTimeMs);
    return h;
  }

  get height(): number {
    return this.t.store.height;
  }

  /**
   * Runs one block: liveness from `signed` (default: everyone signed), then
   * `body`, then endBlock; commits it. A throwing body aborts the block
   * uncommitted (the throw propagates).
   */
  async block<T>(
    body: (b: StakingBlock) => Promise<T>,
    opts: { signed?: readonly boolean[]; advanceMs?: number } = {},
  ): Promise<T> {
    const height = this.height + 1;
    const timeMs = this.timeMs + (opts.advanceMs ?? 1000);
    const overlay = newOverlay(this.t);
    const b = new StakingBlock(overlay, {
      params: this.params,
      height,
      timeMs,
      chainIdHash: TEST_CHAIN_ID_HASH,
    });
    const last = height > 1 ? await readValidatorSet(overlay, height - 1) : [];
    await b.recordLastCommit(opts.signed ?? last!.map(() => true));
    const result = await body(b);
    await b.endBlock();
    await commitOverlay(this.t, overlay);
    this.timeMs = timeMs;
    this.times.push(timeMs);
    return result;
  }

  setAt(height: number): Promise<SetMember[] | undefined> {
    return readValidatorSet(this.t.store, height);
  }

  totals(): Promise<Totals> {
    return readTotals(this.t.store);
  }

  close(): Promise<void> {
    return this.t.close();
  }
}
