/**
 * Staking and evidence rule violations, merged into `VerificationCodes`
 * (src/consensus/errors.ts), each with its peer penalty. Codes an honest peer
 * can trip in a race (an unbonding that matured a block later than it thought,
 * two unbonds that together exceed the bond) cost little; malformed payloads
 * and forged evidence cost the most. docs/staking.md lists what each means.
 */
export const StakingVerificationCodes = {
  STAKE_PAYLOAD_MALFORMED: 100,
  STAKE_NO_OPERATOR: 100,
  STAKE_BELOW_MIN_BOND: 100,
  STAKE_CONSENSUS_KEY_IN_USE: 10,
  STAKE_KEY_MISMATCH: 10,
  STAKE_UNKNOWN_VALIDATOR: 10,
  STAKE_TOMBSTONED: 10,
  STAKE_INSUFFICIENT_BOND: 10,
  STAKE_AMOUNT_OUT_OF_RANGE: 100,
  STAKE_UNKNOWN_UNBONDING: 10,
  STAKE_UNBONDING_NOT_MATURE: 0,
  STAKE_ROTATION_TOO_SOON: 0,
  STAKE_NOT_JAILED: 10,
  STAKE_JAIL_NOT_EXPIRED: 0,
  EVIDENCE_MALFORMED: 100,
  EVIDENCE_NOT_CONFLICTING: 100,
  EVIDENCE_FROM_FUTURE: 100,
  EVIDENCE_EXPIRED: 10,
  EVIDENCE_UNKNOWN_VALIDATOR: 100,
  EVIDENCE_ALREADY_TOMBSTONED: 10,
  EVIDENCE_BAD_SIGNATURE: 100,
  /** A block's header does not commit to the evidence it carries. */
  BLOCK_BAD_EVIDENCE_ROOT: 100,
  /** More evidence bytes than the genesis parameter maxBlockEvidenceBytes allows. */
  BLOCK_EVIDENCE_TOO_LARGE: 100,
  /** Evidence of an equivocation already committed (earlier, or twice in the block). */
  BLOCK_EVIDENCE_DUPLICATE: 100,
} as const;
