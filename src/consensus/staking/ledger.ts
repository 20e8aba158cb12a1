import { MAX_MONEY } from '../../primitives/index.ts';
import type { StateOverlay, StateReader } from '../../state/index.ts';
import { Namespace, StateKeys } from '../../state/index.ts';
import { compareBytes } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import type { StakingParams } from './params.ts';
import {
  decodeAmount,
  decodeJail,
  decodeSet,
  decodeTotals,
  decodeUnbonding,
  decodeValidator,
  decodeWindow,
  encodeAmount,
  encodeJail,
  encodeTotals,
  encodeUnbonding,
  type JailRecord,
  type MissedWindow,
  type SetMember,
  type Totals,
  type UnbondingEntry,
  type ValidatorRecord,
} from './records.ts';

/**
 * Typed reads and writes of the staking records over a state view, and the
 * two operations shared by several rules (moving totals, slashing). Nothing
 * here decides whether an action is allowed: see rules.ts.
 */
export class StakingLedger {
  readonly view: StateOverlay;
  private readonly params: StakingParams;

  constructor(view: StateOverlay, params: StakingParams) {
    this.view = view;
    this.params = params;
  }

  async validator(id: Uint8Array): Promise<ValidatorRecord | undefined> {
    const raw = await this.view.get(StateKeys.registry(id));
    return raw === undefined ? undefined : decodeValidator(raw);
  }

  async bonded(id: Uint8Array): Promise<bigint> {
    const raw = await this.view.get(StateKeys.stake(id));
    return raw === undefined ? 0n : decodeAmount(raw);
  }

  setBonded(id: Uint8Array, amount: bigint): void {
    if (amount === 0n) this.view.delete(StateKeys.stake(id));
    else this.view.put(StateKeys.stake(id), encodeAmount(amount));
  }

  async jail(id: Uint8Array): Promise<JailRecord> {
    const raw = await this.view.get(StateKeys.jail(id));
    return raw === undefined ? { jailedUntilMs: 0, tombstoned: false } : decodeJail(raw);
  }

  setJail(id: Uint8Array, record: JailRecord): void {
    if (record.jailedUntilMs === 0 && !record.tombstoned) this.view.delete(StateKeys.jail(id));
    else this.view.put(StateKeys.jail(id), encodeJail(record));
  }

  async unbonding(id: Uint8Array, creationHeight: number): Promise<UnbondingEntry | undefined> {
    const raw = await this.view.get(StateKeys.unbonding(id, creationHeight));
    return raw === undefined ? undefined : decodeUnbonding(raw);
  }

  setUnbonding(id: Uint8Array, creationHeight: number, entry: UnbondingEntry): void {
    const key = StateKeys.unbonding(id, creationHeight);
    if (entry.amount === 0n) this.view.delete(key);
    else this.view.put(key, encodeUnbonding(entry));
  }

  async window(id: Uint8Array): Promise<MissedWindow> {
    const raw = await this.view.get(StateKeys.missedBlocks(id));
    const size = this.params.signedBlocksWindow;
    return raw === undefined
      ? { observed: 0, missed: 0, bitmap: new Uint8Array(Math.ceil(size / 8)) }
      : decodeWindow(raw, size);
  }

  async validatorIdOfKey(consensusKey: Uint8Array): Promise<Uint8Array | undefined> {
    return this.view.get(StateKeys.consensusKey(consensusKey));
  }

  async totals(): Promise<Totals> {
    return readTotals(this.view);
  }

  /** Adds the deltas to the totals; every amount stays within [0, MAX_MONEY]. */
  async moveTotals(delta: {
    bonded?: bigint;
    unbonding?: bigint;
    slashed?: bigint;
  }): Promise<void> {
    const t = await this.totals();
    const next = {
      bonded: t.bonded + (delta.bonded ?? 0n),
      unbonding: t.unbonding + (delta.unbonding ?? 0n),
      slashed: t.slashed + (delta.slashed ?? 0n),
    };
    for (const [name, value] of Object.entries(next)) {
      if (value < 0n || value > MAX_MONEY) {
        throw new VerificationError('STAKE_AMOUNT_OUT_OF_RANGE', `total ${name} would be ${value}`);
      }
    }
    this.view.put(StateKeys.totals(), encodeTotals(next));
  }

  /**
   * Burns `bps` basis points of the validator's bonded stake and of each of
   * its unbonding entries that is not yet withdrawable at `nowMs`. Returns
   * the amount burned.
   */
  async slash(id: Uint8Array, bps: number, nowMs: number): Promise<bigint> {
    const fraction = BigInt(bps);
    const bonded = await this.bonded(id);
    const bondedCut = (bonded * fraction) / 10_000n;
    this.setBonded(id, bonded - bondedCut);
    const entries: { height: number; entry: UnbondingEntry }[] = [];
    for await (const { key, value } of this.view.entries(StateKeys.unbondingOf(id))) {
      const height = new DataView(key.buffer, key.byteOffset + 33, 4).getUint32(0, false);
      entries.push({ height, entry: decodeUnbonding(value) });
    }
    let unbondingCut = 0n;
    for (const { height, entry } of entries) {
      if (entry.completesAtMs <= nowMs) continue;
      const cut = (entry.amount * fraction) / 10_000n;
      unbondingCut += cut;
      this.setUnbonding(id, height, { ...entry, amount: entry.amount - cut });
    }
    await this.moveTotals({
      bonded: -bondedCut,
      unbonding: -unbondingCut,
      slashed: bondedCut + unbondingCut,
    });
    return bondedCut + unbondingCut;
  }

  /**
   * The active set from the registry: not jailed, not tombstoned, power > 0;
   * the top `maxValidators` by power, ties broken by validator id (lowest
   * first); returned sorted by consensus key, the commit index order.
   */
  async computeActiveSet(): Promise<SetMember[]> {
    const candidates: SetMember[] = [];
    for await (const { key, value } of this.view.entries(StateKeys.namespace(Namespace.registry))) {
      const id = key.subarray(1);
      const jail = await this.jail(id);
      if (jail.tombstoned || jail.jailedUntilMs !== 0) continue;
      const power = (await this.bonded(id)) / this.params.powerReduction;
      if (power === 0n) continue;
      candidates.push({
        consensusKey: decodeValidator(value).consensusKey,
        power,
        validatorId: id,
      });
    }
    candidates.sort((a, b) =>
      a.power === b.power ? compareBytes(a.validatorId, b.validatorId) : a.power > b.power ? -1 : 1,
    );
    return candidates
      .slice(0, this.params.maxValidators)
      .sort((a, b) => compareBytes(a.consensusKey, b.consensusKey));
  }
}

export async function readTotals(reader: StateReader): Promise<Totals> {
  const raw = await reader.get(StateKeys.totals());
  return raw === undefined ? { bonded: 0n, unbonding: 0n, slashed: 0n } : decodeTotals(raw);
}

/** The validator set that signs `height`, as the state holds it (heights h-1 .. h+2 of tip h). */
export async function readValidatorSet(
  reader: StateReader,
  height: number,
): Promise<SetMember[] | undefined> {
  const raw = await reader.get(StateKeys.validatorSet(height));
  return raw === undefined ? undefined : decodeSet(raw);
}
