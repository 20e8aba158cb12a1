import { UtxodError } from '../util/index.ts';
import { ContractVerificationCodes } from '../vm/index.ts';
import { StakingVerificationCodes } from './staking/errors.ts';

/**
 * Consensus rule violations. Each code has a fixed peer penalty (0-100): 100
 * means the sender provably broke a rule no honest node breaks (ban at once);
 * low values cover things an honest peer can send during a race (an input just
 * spent, a transaction not final yet). P2P scoring and the API's error format
 * read `code`, `reason` and `penalty` from here; nothing parses messages.
 */
export const VerificationCodes = {
  TX_MALFORMED: 100,
  TX_TOO_LARGE: 100,
  TX_NO_INPUTS: 100,
  TX_NO_OUTPUTS: 100,
  TX_WITNESS_COUNT: 100,
  TX_DUPLICATE_INPUT: 100,
  TX_OUTPUTS_OUT_OF_RANGE: 100,
  TX_UNKNOWN_PAYLOAD: 100,
  TX_INPUT_MISSING: 0,
  TX_IMMATURE_SPEND: 10,
  TX_NOT_FINAL: 0,
  TX_INPUTS_BELOW_OUTPUTS: 100,
  /** inputs - outputs does not cover the gas the transaction reserves (gas limit x gas price). */
  TX_FEE_BELOW_GAS: 100,
  TX_WRONG_KEY: 100,
  TX_BAD_SIGNATURE: 100,
  BLOCK_MALFORMED: 100,
  BLOCK_TOO_LARGE: 100,
  BLOCK_BAD_TX_ROOT: 100,
  BLOCK_NO_COINBASE: 100,
  BLOCK_MULTIPLE_COINBASE: 100,
  BLOCK_BAD_COINBASE_LOCKTIME: 100,
  BLOCK_COINBASE_TOO_LARGE: 100,
  BLOCK_DUPLICATE_TX: 100,
  BLOCK_DOUBLE_SPEND: 100,
  BLOCK_BAD_PREV: 20,
  /** The same block reached the importer by two paths (gossip, sync, our own commit): a race, not a fault. */
  BLOCK_ALREADY_CONNECTED: 0,
  BLOCK_BAD_HEIGHT: 100,
  BLOCK_BAD_TIME: 100,
  BLOCK_TIME_TOO_FAR_AHEAD: 10,
  BLOCK_BAD_UTXO_ROOT: 100,
  BLOCK_BAD_STATE_ROOT: 100,
  BLOCK_BAD_VALIDATOR_SET: 100,
  BLOCK_BAD_PROPOSER: 100,
  BLOCK_BAD_LAST_COMMIT: 100,
  BLOCK_BAD_COMMIT: 100,
  BLOCK_CHECKPOINT_MISMATCH: 100,
  CONSENSUS_MALFORMED: 100,
  CONSENSUS_BAD_SIGNATURE: 100,
  CONSENSUS_UNKNOWN_VALIDATOR: 20,
  CONSENSUS_WRONG_PROPOSER: 100,
  ...StakingVerificationCodes,
  ...ContractVerificationCodes,
} as const;

export type VerificationCode = keyof typeof VerificationCodes;

export class VerificationError extends UtxodError<VerificationCode> {
  /** Short human explanation of what exactly was wrong. */
  readonly reason: string;
  /** Score a peer loses for sending this (see VerificationCodes). */
  readonly penalty: number;

  constructor(code: VerificationCode, reason: string, details: Record<string, unknown> = {}) {
    super(code, `${code}: ${reason}`, details);
    this.reason = reason;
    this.penalty = VerificationCodes[code];
  }
}
