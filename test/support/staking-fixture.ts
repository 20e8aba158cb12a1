/** Staking rules over a real state store on LevelDB, one committed block at a time. */

import { readTotals, readValidatorSet } from '../../src/consensus/staking/ledger.ts';
import type { StakingParams } from '../../src/consensus/staking/params.ts';
import type { SetMember, Totals } from '../../src/consensus/staking/records.ts';
import {
  type GenesisValidator,
  StakingBlock,
  writeGenesisStaking,
} from '../../src/consensus/staking/rules.ts';
import { sha256 } from '../../src/crypto/hash.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import { getPublicKey } from '../../src/crypto/signer.ts';
import { commitOverlay, newOverlay, openTestState, type TestState } from './state-fixture.ts';

export function stakingKey(label: string): KeyPair {
  const privateKey = sha256(new TextEncoder().encode(`utxod staking test key ${label}`));
  return { privateKey, publicKey: getPublicKey(privateKey) };
}

export const TEST_CHAIN_ID_HASH = sha256(new TextEncoder().encode('staking-test-chain'));

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
