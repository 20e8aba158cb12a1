import { UtxodError } from '../../util/index.ts';

/**
 * Contract rule violations that make a transaction (and so a block holding
 * it) invalid, each with its peer penalty, to be merged into
 * `VerificationCodes` (src/consensus/errors.ts) as the staking codes are. A
 * failed call is not one of these: it is a valid transaction whose call
 * reverted (see ContractTxResult). docs/contracts.md lists what each means.
 */
export const ContractVerificationCodes = {
  /** A deploy or call payload that does not decode (docs/protocol.md). */
  CONTRACT_PAYLOAD_MALFORMED: 100,
  /** Deploy: the source is refused by the subset (syntax, forbidden, too large). */
  CONTRACT_DEPLOY_REFUSED: 100,
  /** Arguments that are not a canonical array of contract values, or init args with no init. */
  CONTRACT_BAD_ARGS: 100,
  /** Gas limit below the deploy charge, or a call's limit over the most a call may use. */
  CONTRACT_GAS_LIMIT: 100,
  /** Gas price below the network minimum. */
  CONTRACT_GAS_PRICE_LOW: 10,
  /** A call or spend of a contract that does not exist (yet: a race with its deploy). */
  CONTRACT_UNKNOWN: 10,
  /** A call whose first input has no signing key to be its caller. */
  CONTRACT_NO_CALLER: 100,
  /** A contract-locked coin whose contract did not allow this spend. */
  CONTRACT_SPEND_REFUSED: 100,
  /** The block's contract transactions reserve more gas than the block gas limit. */
  CONTRACT_BLOCK_GAS: 100,
} as const;

export type ContractVerificationCode = keyof typeof ContractVerificationCodes;

/** Carries code, reason and penalty so the chain can raise it as a VerificationError. */
export class ContractRuleError extends UtxodError<ContractVerificationCode> {
  readonly reason: string;
  readonly penalty: number;

  constructor(
    code: ContractVerificationCode,
    reason: string,
    details: Record<string, unknown> = {},
  ) {
    super(code, `${code}: ${reason}`, details);
    this.reason = reason;
    this.penalty = ContractVerificationCodes[code];
  }
}
