import type { TxPayload } from '../../primitives/index.ts';
import { MAX_MONEY, pubkeyHash } from '../../primitives/index.ts';
import type { StateOverlay } from '../../state/index.ts';
import { StateKeys } from '../../state/index.ts';
import { bytesEqual, toHex } from '../../util/index.ts';
import { VerificationError } from '../errors.ts';
import type { SignatureJob } from '../signatures.ts';
import { ValidatorSet } from '../validator-set.ts';
import {
  type DuplicateVoteEvidence,
  evidenceSignatureJobs,
  isEvidenceExpired,
} from './evidence.ts';
import { readValidatorSet, StakingLedger } from './ledger.ts';
import type { StakingParams } from './params.ts';
import { decodeStakingPayload, isValidPublicKey, type StakingPayload } from './payload.ts';
import { encodeSet, encodeValidator, encodeWindow, type SetMember } from './records.ts';

/** Block-level inputs of the staking rules. */
export interface StakingContext {
  readonly params: StakingParams;
  /** Height of the block being applied. */
  readonly height: number;
  /** Its header time (ms). */
  readonly timeMs: number;
  readonly chainIdHash: Uint8Array;
}

/**
 * What a staking transaction does to the spendable coins: `valueOut` left the
 * inputs for the registry (a bond), `valueIn` came back from it (a withdrawal).
 * The chain checks inputs + valueIn >= outputs + valueOut; the rest is the fee.
 */
export interface TxStakingEffect {
  readonly valueIn: bigint;
  readonly valueOut: bigint;
}

export interface LivenessOutcome {
  /** Validators jailed for downtime by this block. */
  readonly jailed: Uint8Array[];
}

/** A genesis validator: its operator key owns the stake, its consensus key signs votes. */
export interface GenesisValidator {
  readonly operatorKey: Uint8Array;
  readonly consensusKey: Uint8Array;
  readonly bonded: bigint;
}

/** The validator id: the operator key's lock hash (so also its address program). */
export function validatorIdOf(operatorKey: Uint8Array): Uint8Array {
  return pubkeyHash(operatorKey);
}

export function toValidatorSet(members: readonly SetMember[]): ValidatorSet {
  return new ValidatorSet(members.map((m) => ({ publicKey: m.consensusKey, power: m.power })));
}

/**
 * The staking rules of one block as pure state transitions on `overlay`, in
 * block order: `recordLastCommit` (liveness from the parent's commit), then
 * `applyEvidence` for each committed evidence, then `applyTx` for each staking
 * transaction, then `endBlock`, which schedules the validator set of
 * height + 2. A rule that fails throws a VerificationError and leaves the
 * overlay as it was.
 */
export class StakingBlock {
  private readonly overlay: StateOverlay;
  private readonly ctx: StakingContext;
  private dirty = false;

  constructor(overlay: StateOverlay, ctx: StakingContext) {
    this.overlay = overlay;
    this.ctx = ctx;
  }

  /**
   * Liveness from the commit certificate this block carries (it certifies
   * height - 1; `signed[i]` is whether member i of that height's set signed).
   * A validator that has missed more than the window allows is jailed for
   * `downtimeJailMs` and slashed; its window restarts.
   */
  async recordLastCommit(signed: readonly boolean[]): Promise<LivenessOutcome> {
    const { height, params, timeMs } = this.ctx;
    if (height <= 1) return { jailed: [] }; // block 1 carries the genesis commit: no signer
    const members = await readValidatorSet(this.overlay, height - 1);
    if (members === undefined) throw new RangeError(`no validator set stored for ${height - 1}`);
    if (signed.length !== members.length) {
      throw new RangeError(`${signed.length} signer flags for ${members.length} validators`);
    }
    const ledger = new StakingLedger(this.overlay, params);
    const size = params.signedBlocksWindow;
    const maxMissed = size - Math.ceil((size * params.minSignedPerWindowBps) / 10_000);
    const jailed: Uint8Array[] = [];
    for (const [i, member] of members.entries()) {
      const id = member.validatorId;
      const jail = await ledger.jail(id);
      // Jailed at H, a validator is still in the sets of H+1 and H+2: not counted twice.
      if (jail.tombstoned || jail.jailedUntilMs !== 0) continue;
      const w = await ledger.window(id);
      const pos = w.observed % size;
      const bitmap = new Uint8Array(w.bitmap);
      const wasMissed = (bitmap[pos >> 3]! >> (pos & 7)) & 1;
      const missedNow = signed[i] ? 0 : 1;
      if (missedNow) bitmap[pos >> 3]! |= 1 << (pos & 7);
      else bitmap[pos >> 3]! &= ~(1 << (pos & 7));
      const window = { observed: w.observed + 1, missed: w.missed - wasMissed + missedNow, bitmap };
      if (window.observed >= size && window.missed > maxMissed) {
        ledger.setJail(id, { jailedUntilMs: timeMs + params.downtimeJailMs, tombstoned: false });
        await ledger.slash(id, params.slashFractionDowntimeBps, timeMs);
        this.overlay.delete(StateKeys.missedBlocks(id));
        jailed.push(id);
        this.dirty = true;
      } else {
        this.overlay.put(StateKeys.missedBlocks(id), encodeWindow(window));
      }
    }
    return { jailed };
  }

  /**
   * Applies committed duplicate-vote evidence: slashes and tombstones its
   * validator. `evidenceTimeMs` is the header time of `evidence.height`.
   * Returns the two vote signatures, which the caller verifies with the
   * block's other signatures (the block is invalid if either fails: code
   * EVIDENCE_BAD_SIGNATURE). The caller also checks that the key was in the
   * validator set of `evidence.height` (it holds that set's history).
   */
  async applyEvidence(
    evidence: DuplicateVoteEvidence,
    evidenceTimeMs: number,
  ): Promise<SignatureJob[]> {
    const { height, timeMs, params, chainIdHash } = this.ctx;
    const jobs = evidenceSignatureJobs(evidence, chainIdHash);
    if (evidence.height >= height) {
      throw new VerificationError(
        'EVIDENCE_FROM_FUTURE',
        `evidence of height ${evidence.height} in block ${height}`,
      );
    }
    const maxAge = { blocks: params.evidenceMaxAgeBlocks, ms: params.evidenceMaxAgeMs };
    if (isEvidenceExpired(evidence.height, evidenceTimeMs, { height, timeMs }, maxAge)) {
      throw new VerificationError('EVIDENCE_EXPIRED', `evidence of height ${evidence.height}`);
    }
    const fork = this.overlay.fork();
    const ledger = new StakingLedger(fork, params);
    const id = await ledger.validatorIdOfKey(evidence.consensusKey);
    if (id === undefined) {
      throw new VerificationError(
        'EVIDENCE_UNKNOWN_VALIDATOR',
        `key ${toHex(evidence.consensusKey)} is no validator's`,
      );
    }
    const jail = await ledger.jail(id);
    if (jail.tombstoned) {
      throw new VerificationError('EVIDENCE_ALREADY_TOMBSTONED', `validator ${toHex(id)}`);
    }
    await ledger.slash(id, params.slashFractionDoubleSignBps, timeMs);
    ledger.setJail(id, { jailedUntilMs: jail.jailedUntilMs || timeMs, tombstoned: true });
    fork.delete(StateKeys.missedBlocks(id));
    fork.mergeInto(this.overlay);
    this.dirty = true;
    return jobs;
  }

  /**
   * Applies one staking transaction. `operatorKey` is the public key that
   * signed the transaction's first input (null for a transaction without
   * inputs): the operator whose validator the payload acts on.
   */
  async applyTx(payload: TxPayload, operatorKey: Uint8Array | null): Promise<TxStakingEffect> {
    const decoded = decodeStakingPayload(payload);
    if (operatorKey === null || !isValidPublicKey(operatorKey)) {
      throw new VerificationError(
        'STAKE_NO_OPERATOR',
        'a staking transaction needs a signed input',
      );
    }
    const fork = this.overlay.fork();
    const effect = await this.apply(new StakingLedger(fork, this.ctx.params), decoded, operatorKey);
    fork.mergeInto(this.overlay);
    this.dirty = true;
    return effect;
  }

  private async apply(
    ledger: StakingLedger,
    p: StakingPayload,
    operatorKey: Uint8Array,
  ): Promise<TxStakingEffect> {
    const { height, timeMs, params } = this.ctx;
    const id = validatorIdOf(operatorKey);
    const validator = await ledger.validator(id);
    if (p.kind === 'bond') {
      if (validator === undefined) {
        if (p.amount < params.minSelfBond) {
          throw new VerificationError(
            'STAKE_BELOW_MIN_BOND',
            `a new validator bonds ${p.amount} < ${params.minSelfBond}`,
          );
        }
        if ((await ledger.validatorIdOfKey(p.consensusKey)) !== undefined) {
          throw new VerificationError('STAKE_CONSENSUS_KEY_IN_USE', toHex(p.consensusKey));
        }
        const record = {
          operatorKey,
          consensusKey: p.consensusKey,
          lastRotationMs: 0,
          createdHeight: height,
        };
        ledger.view.put(StateKeys.registry(id), encodeValidator(record));
        ledger.view.put(StateKeys.consensusKey(p.consensusKey), id);
      } else {
        if ((await ledger.jail(id)).tombstoned) {
          throw new VerificationError('STAKE_TOMBSTONED', `validator ${toHex(id)}`);
        }
        if (!bytesEqual(validator.consensusKey, p.consensusKey)) {
          throw new VerificationError('STAKE_KEY_MISMATCH', 'bond names another consensus key');
        }
      }
      const bonded = (await ledger.bonded(id)) + p.amount;
      if (bonded > MAX_MONEY) throw new VerificationError('STAKE_AMOUNT_OUT_OF_RANGE', `${bonded}`);
      ledger.setBonded(id, bonded);
      await ledger.moveTotals({ bonded: p.amount });
      return { valueIn: 0n, valueOut: p.amount };
    }
    if (validator === undefined) {
      throw new VerificationError('STAKE_UNKNOWN_VALIDATOR', `no validator ${toHex(id)}`);
    }
    switch (p.kind) {
      case 'unbond': {
        const bonded = await ledger.bonded(id);
        if (p.amount > bonded) {
          throw new VerificationError('STAKE_INSUFFICIENT_BOND', `unbond ${p.amount} of ${bonded}`);
        }
        ledger.setBonded(id, bonded - p.amount);
        const existing = await ledger.unbonding(id, height);
        ledger.setUnbonding(id, height, {
          amount: (existing?.amount ?? 0n) + p.amount,
          completesAtMs: timeMs + params.unbondingPeriodMs,
        });
        await ledger.moveTotals({ bonded: -p.amount, unbonding: p.amount });
        return { valueIn: 0n, valueOut: 0n };
      }
      case 'withdraw': {
        const entry = await ledger.unbonding(id, p.creationHeight);
        if (entry === undefined) {
          throw new VerificationError(
            'STAKE_UNKNOWN_UNBONDING',
            `no unbonding of height ${p.creationHeight}`,
          );
        }
        if (entry.completesAtMs > timeMs) {
          throw new VerificationError(
            'STAKE_UNBONDING_NOT_MATURE',
            `withdrawable from ${entry.completesAtMs}, block time ${timeMs}`,
          );
        }
        ledger.setUnbonding(id, p.creationHeight, { ...entry, amount: 0n });
        await ledger.moveTotals({ unbonding: -entry.amount });
        return { valueIn: entry.amount, valueOut: 0n };
      }
      case 'rotateKey': {
        if ((await ledger.jail(id)).tombstoned) {
          throw new VerificationError('STAKE_TOMBSTONED', `validator ${toHex(id)}`);
        }
        if (
          validator.lastRotationMs !== 0 &&
          timeMs - validator.lastRotationMs < params.unbondingPeriodMs
        ) {
          throw new VerificationError(
            'STAKE_ROTATION_TOO_SOON',
            `last rotation at ${validator.lastRotationMs}; once per unbonding period`,
          );
        }
        // Old keys stay in the index: evidence they signed still finds the validator.
        if ((await ledger.validatorIdOfKey(p.consensusKey)) !== undefined) {
          throw new VerificationError('STAKE_CONSENSUS_KEY_IN_USE', toHex(p.consensusKey));
        }
        ledger.view.put(
          StateKeys.registry(id),
          encodeValidator({ ...validator, consensusKey: p.consensusKey, lastRotationMs: timeMs }),
        );
        ledger.view.put(StateKeys.consensusKey(p.consensusKey), id);
        return { valueIn: 0n, valueOut: 0n };
      }
      case 'unjail': {
        const jail = await ledger.jail(id);
        if (jail.tombstoned)
          throw new VerificationError('STAKE_TOMBSTONED', `validator ${toHex(id)}`);
        if (jail.jailedUntilMs === 0) throw new VerificationError('STAKE_NOT_JAILED', toHex(id));
        if (jail.jailedUntilMs > timeMs) {
          throw new VerificationError(
            'STAKE_JAIL_NOT_EXPIRED',
            `jailed until ${jail.jailedUntilMs}, block time ${timeMs}`,
          );
        }
        ledger.setJail(id, { jailedUntilMs: 0, tombstoned: false });
        ledger.view.delete(StateKeys.missedBlocks(id));
        return { valueIn: 0n, valueOut: 0n };
      }
    }
  }

  /**
   * Schedules the set of height + 2 from the registry as this block left it
   * (CometBFT: changes of H take effect at H+2), and drops the set of
   * height - 1, no longer needed. Returns the sets of height + 1 and + 2,
   * whose hashes the next header commits to. If no validator would be left,
   * the set of height + 1 carries over: staking alone never halts the chain.
   */
  async endBlock(): Promise<{ next: SetMember[]; afterNext: SetMember[] }> {
    const { height, params } = this.ctx;
    const next = await readValidatorSet(this.overlay, height + 1);
    if (next === undefined) throw new RangeError(`no validator set stored for ${height + 1}`);
    let afterNext = next;
    if (this.dirty) {
      const computed = await new StakingLedger(this.overlay, params).computeActiveSet();
      if (computed.length > 0) afterNext = computed;
    }
    this.overlay.put(StateKeys.validatorSet(height + 2), encodeSet(afterNext));
    if (height >= 1) this.overlay.delete(StateKeys.validatorSet(height - 1));
    return { next, afterNext };
  }
}

/**
 * The genesis registry: validators bonded from the start (their stake is part
 * of the genesis supply), and the sets of heights 1 and 2.
 */
export async function writeGenesisStaking(
  overlay: StateOverlay,
  params: StakingParams,
  validators: readonly GenesisValidator[],
): Promise<SetMember[]> {
  const ledger = new StakingLedger(overlay, params);
  let total = 0n;
  for (const v of validators) {
    if (!isValidPublicKey(v.operatorKey) || !isValidPublicKey(v.consensusKey)) {
      throw new RangeError('genesis validator keys must be compressed secp256k1 points');
    }
    const id = validatorIdOf(v.operatorKey);
    if ((await ledger.validator(id)) !== undefined)
      throw new RangeError('duplicate genesis operator');
    if ((await ledger.validatorIdOfKey(v.consensusKey)) !== undefined) {
      throw new RangeError('duplicate genesis consensus key');
    }
    if (v.bonded < params.minSelfBond || v.bonded > MAX_MONEY) {
      throw new RangeError(`genesis bond ${v.bonded} out of range`);
    }
    const record = {
      operatorKey: v.operatorKey,
      consensusKey: v.consensusKey,
      lastRotationMs: 0,
      createdHeight: 0,
    };
    overlay.put(StateKeys.registry(id), encodeValidator(record));
    overlay.put(StateKeys.consensusKey(v.consensusKey), id);
    ledger.setBonded(id, v.bonded);
    total += v.bonded;
  }
  await ledger.moveTotals({ bonded: total });
  const members = await ledger.computeActiveSet();
  if (members.length === 0) throw new RangeError('genesis has no validator with voting power');
  overlay.put(StateKeys.validatorSet(1), encodeSet(members));
  overlay.put(StateKeys.validatorSet(2), encodeSet(members));
  return members;
}
