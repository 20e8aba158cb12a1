import { Namespace, StateKeys, type StateReader } from '../../state/index.ts';
import { compareBytes } from '../../util/index.ts';
import type { StakingParams } from './params.ts';
import {
  decodeAmount,
  decodeJail,
  decodeUnbonding,
  decodeValidator,
  decodeWindow,
  type UnbondingEntry,
} from './records.ts';

/** Unbonding entries listed per validator: one per (validator, height) can pile up. */
export const MAX_UNBONDING_VIEW = 100;
/** Largest page of tombstoned validators. */
export const MAX_TOMBSTONED_PAGE = 500;

export interface UnbondingState extends UnbondingEntry {
  readonly creationHeight: number;
}

/** A validator's registry records read together (the API serves this as is). */
export interface ValidatorStakeState {
  readonly validatorId: Uint8Array;
  readonly operatorKey: Uint8Array;
  readonly consensusKey: Uint8Array;
  readonly createdHeight: number;
  /** Block time of the last key rotation; 0 = never rotated. */
  readonly lastRotationMs: number;
  readonly bonded: bigint;
  /** 0 = not jailed; otherwise unjail is allowed from this block time on. */
  readonly jailedUntilMs: number;
  readonly tombstoned: boolean;
  /** Blocks missed in the current liveness window, and blocks observed since it (re)started. */
  readonly missedBlocks: number;
  readonly observedBlocks: number;
  /** The first MAX_UNBONDING_VIEW entries in creation-height order. */
  readonly unbonding: readonly UnbondingState[];
  /** True when the validator has more unbonding entries than listed. */
  readonly unbondingTruncated: boolean;
}

/**
 * Read-only views of the staking registry for the API, over any state reader
 * (the committed store, so a query never sees a block half applied). Records
 * are decoded with the same strict decoders the rules use: a corrupt record
 * throws instead of being shown as something it is not.
 */
export class StakingQueriesFromState {
  private readonly params: StakingParams;
  private readonly state: StateReader;

  constructor(opts: { params: StakingParams }, modules: { state: StateReader }) {
    this.params = opts.params;
    this.state = modules.state;
  }

  get signedBlocksWindow(): number {
    return this.params.signedBlocksWindow;
  }

  async validator(validatorId: Uint8Array): Promise<ValidatorStakeState | undefined> {
    if (validatorId.length !== 32) return undefined;
    const raw = await this.state.get(StateKeys.registry(validatorId));
    if (raw === undefined) return undefined;
    const record = decodeValidator(raw);
    const [stake, jail, window] = await Promise.all([
      this.state.get(StateKeys.stake(validatorId)),
      this.state.get(StateKeys.jail(validatorId)),
      this.state.get(StateKeys.missedBlocks(validatorId)),
    ]);
    const jailRecord =
      jail === undefined ? { jailedUntilMs: 0, tombstoned: false } : decodeJail(jail);
    const missed =
      window === undefined
        ? { observed: 0, missed: 0 }
        : decodeWindow(window, this.params.signedBlocksWindow);
    const unbonding: UnbondingState[] = [];
    let unbondingTruncated = false;
    const prefix = StateKeys.unbondingOf(validatorId);
    for await (const entry of this.state.entries(prefix)) {
      if (unbonding.length === MAX_UNBONDING_VIEW) {
        unbondingTruncated = true;
        break;
      }
      const view = new DataView(entry.key.buffer, entry.key.byteOffset, entry.key.byteLength);
      unbonding.push({
        creationHeight: view.getUint32(prefix.length, false),
        ...decodeUnbonding(entry.value),
      });
    }
    return {
      validatorId: new Uint8Array(validatorId),
      operatorKey: record.operatorKey,
      consensusKey: record.consensusKey,
      createdHeight: record.createdHeight,
      lastRotationMs: record.lastRotationMs,
      bonded: stake === undefined ? 0n : decodeAmount(stake),
      jailedUntilMs: jailRecord.jailedUntilMs,
      tombstoned: jailRecord.tombstoned,
      missedBlocks: missed.missed,
      observedBlocks: missed.observed,
      unbonding,
      unbondingTruncated,
    };
  }

  async validatorByConsensusKey(
    consensusKey: Uint8Array,
  ): Promise<ValidatorStakeState | undefined> {
    if (consensusKey.length !== 33) return undefined;
    const id = await this.state.get(StateKeys.consensusKey(consensusKey));
    return id === undefined ? undefined : this.validator(id);
  }

  async tombstoned(page: {
    readonly limit: number;
    readonly after: Uint8Array | null;
  }): Promise<{ items: ValidatorStakeState[]; next: Uint8Array | null }> {
    const limit = Math.max(1, Math.min(page.limit, MAX_TOMBSTONED_PAGE));
    const ids: Uint8Array[] = [];
    let more = false;
    // Jail records exist only for jailed or tombstoned validators, so this
    // scan is over the punished few, not the whole registry.
    for await (const entry of this.state.entries(StateKeys.namespace(Namespace.jail))) {
      const id = entry.key.subarray(1);
      if (page.after !== null && compareBytes(id, page.after) <= 0) continue;
      if (!decodeJail(entry.value).tombstoned) continue;
      if (ids.length === limit) {
        more = true;
        break;
      }
      ids.push(new Uint8Array(id));
    }
    const items: ValidatorStakeState[] = [];
    for (const id of ids) {
      const v = await this.validator(id);
      if (v !== undefined) items.push(v);
    }
    return { items, next: more ? ids[ids.length - 1]! : null };
  }
}
