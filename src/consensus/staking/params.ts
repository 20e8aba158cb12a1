import { COIN, EVIDENCE_BYTES, MAX_BLOCK_EVIDENCE } from '../../primitives/index.ts';

/**
 * Staking parameters. Every one is a genesis parameter (docs/staking.md);
 * the defaults are the Cosmos SDK's where it has one.
 */
export interface StakingParams {
  /** Validators in the active set at most: the top by power. */
  readonly maxValidators: number;
  /** The least a new validator must bond. */
  readonly minSelfBond: bigint;
  /** Bonded base units per unit of voting power. */
  readonly powerReduction: bigint;
  /** How long unbonded stake stays slashable before it can be withdrawn (block time, ms). */
  readonly unbondingPeriodMs: number;
  /** Blocks in a validator's liveness window. */
  readonly signedBlocksWindow: number;
  /** Fraction of the window a validator must sign, in basis points. */
  readonly minSignedPerWindowBps: number;
  readonly downtimeJailMs: number;
  readonly slashFractionDowntimeBps: number;
  readonly slashFractionDoubleSignBps: number;
  /** Evidence expires only when older than both of these. */
  readonly evidenceMaxAgeBlocks: number;
  readonly evidenceMaxAgeMs: number;
  /** Encoded evidence one block may carry at most (bytes; each item is EVIDENCE_BYTES). */
  readonly maxBlockEvidenceBytes: number;
}

export const DEFAULT_STAKING_PARAMS: StakingParams = {
  maxValidators: 100,
  minSelfBond: COIN,
  powerReduction: COIN,
  unbondingPeriodMs: 21 * 24 * 3600 * 1000,
  signedBlocksWindow: 100,
  minSignedPerWindowBps: 5000,
  downtimeJailMs: 600 * 1000,
  slashFractionDowntimeBps: 100,
  slashFractionDoubleSignBps: 500,
  evidenceMaxAgeBlocks: 100_000,
  evidenceMaxAgeMs: 48 * 3600 * 1000,
  // 100 pieces: far more equivocations than a set of 100 can commit at one
  // height, and about 1% of a full block.
  maxBlockEvidenceBytes: 100 * EVIDENCE_BYTES,
};

export class StakingParamsError extends RangeError {}

/** Rejects parameters no chain can run with (checked when genesis is read). */
export function checkStakingParams(p: StakingParams): StakingParams {
  const positiveInt = (v: number, max: number) => Number.isSafeInteger(v) && v > 0 && v <= max;
  const bps = (v: number) => Number.isInteger(v) && v >= 0 && v <= 10_000;
  const fail = (field: string) => {
    throw new StakingParamsError(`staking parameter ${field} out of range`);
  };
  if (!positiveInt(p.maxValidators, 1024)) fail('maxValidators');
  if (p.minSelfBond <= 0n) fail('minSelfBond');
  if (p.powerReduction <= 0n) fail('powerReduction');
  if (!positiveInt(p.unbondingPeriodMs, Number.MAX_SAFE_INTEGER)) fail('unbondingPeriodMs');
  if (!positiveInt(p.signedBlocksWindow, 65_535)) fail('signedBlocksWindow');
  if (!bps(p.minSignedPerWindowBps)) fail('minSignedPerWindowBps');
  if (!positiveInt(p.downtimeJailMs, Number.MAX_SAFE_INTEGER)) fail('downtimeJailMs');
  if (!bps(p.slashFractionDowntimeBps)) fail('slashFractionDowntimeBps');
  if (!bps(p.slashFractionDoubleSignBps)) fail('slashFractionDoubleSignBps');
  if (!positiveInt(p.evidenceMaxAgeBlocks, 0xffffffff)) fail('evidenceMaxAgeBlocks');
  if (!positiveInt(p.evidenceMaxAgeMs, Number.MAX_SAFE_INTEGER)) fail('evidenceMaxAgeMs');
  // At least one piece, at most what the block encoding allows.
  if (
    !positiveInt(p.maxBlockEvidenceBytes, MAX_BLOCK_EVIDENCE * EVIDENCE_BYTES) ||
    p.maxBlockEvidenceBytes < EVIDENCE_BYTES
  ) {
    fail('maxBlockEvidenceBytes');
  }
  return p;
}
