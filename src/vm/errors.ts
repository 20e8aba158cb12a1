import { UtxodError } from '../util/index.ts';

/**
 * Why a contract was refused or a call failed. Every code is deterministic:
 * two nodes running the same code and input reach the same code, so a failed
 * call in a block is consensus state (it reverts its writes and still pays its
 * gas). The one exception is CONTRACT_ENGINE_LIMIT (see ContractEngineError).
 */
export const ContractErrorCodes = {
  /** Deploy: source larger than MAX_CODE_BYTES. */
  CONTRACT_TOO_LARGE: 'deploy',
  /** Deploy: not parseable as an ES2022 module, or nested deeper than the subset allows. */
  CONTRACT_SYNTAX: 'deploy',
  /** Deploy or call: a construct, name or property outside the documented subset. */
  CONTRACT_FORBIDDEN: 'deploy',
  /** Call: the method is not exported by the contract. */
  CONTRACT_NO_METHOD: 'call',
  /** Call: arguments or context that do not encode as contract values, or too large. */
  CONTRACT_BAD_VALUE: 'call',
  /** Call: the gas limit ran out (sticky: no catch or finally can resume). */
  CONTRACT_OUT_OF_GAS: 'call',
  /** Call: more nested calls than MAX_CALL_DEPTH. */
  CONTRACT_TOO_DEEP: 'call',
  /** Call: a value (string, bigint, array) larger than the sandbox allows. */
  CONTRACT_TOO_LARGE_VALUE: 'call',
  /** Call: the contract threw (its message is kept) or an engine error escaped it. */
  CONTRACT_REVERTED: 'call',
  /** Call: a write in a read-only query. */
  CONTRACT_READ_ONLY: 'call',
} as const;

export type ContractErrorCode = keyof typeof ContractErrorCodes;

export class ContractError extends UtxodError<ContractErrorCode> {
  readonly reason: string;

  constructor(code: ContractErrorCode, reason: string, details: Record<string, unknown> = {}) {
    super(code, `${code}: ${reason}`, details);
    this.reason = reason;
  }
}

/**
 * isolated-vm's wall-clock timeout or memory limit fired, or a storage read
 * failed on the host (a database error the contract might otherwise catch). These are a safety
 * net, not consensus rules: whether they fire depends on the machine, so the
 * result must never become chain state. A node that sees this while validating
 * a block stops validating it (the block is neither accepted nor marked
 * invalid) and reports the fault; gas limits are set so that honest and
 * hostile contracts alike run out of gas long before either net is reached.
 */
export class ContractEngineError extends UtxodError<'CONTRACT_ENGINE_LIMIT'> {
  constructor(reason: string, options?: ErrorOptions) {
    super('CONTRACT_ENGINE_LIMIT', `contract engine safety limit: ${reason}`, {}, options);
  }
}
