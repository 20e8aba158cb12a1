import { isValidPublicKey } from '../crypto/index.ts';
import {
  encodeStakingPayload,
  formatCoins,
  isValidAmount,
  type Lock,
  LockType,
  pubkeyLock,
  type StakingPayload,
  Transaction,
  TX_VERSION,
  type Witness,
} from '../primitives/index.ts';
import { bytesEqual } from '../util/index.ts';
import {
  dustLimit,
  feeForSize,
  type KeyPair,
  type SpendableCoin,
  signTransaction,
  TxBuildError,
} from './tx-builder.ts';

/**
 * Staking transactions (docs/staking.md): an ordinary transaction whose
 * payload carries the action. The operator is the key that signs the first
 * input, so every input here is one of the operator's own coins, and the
 * change goes back to the operator (a transaction needs an output).
 *
 * - bond: the inputs pay `amount` into the registry plus the fee;
 * - withdraw: the matured entry's `amount` joins the inputs and leaves in the
 *   change output, so the builder must be told how much the entry holds
 *   (the payload names only its creation height; anything not paid out would
 *   become fee);
 * - unbond, rotateKey, unjail: the inputs only pay the fee.
 */
export type StakingAction =
  | { readonly kind: 'bond'; readonly amount: bigint; readonly consensusKey: Uint8Array }
  | { readonly kind: 'unbond'; readonly amount: bigint }
  | { readonly kind: 'rotateKey'; readonly consensusKey: Uint8Array }
  | { readonly kind: 'unjail' }
  | {
      readonly kind: 'withdraw';
      readonly creationHeight: number;
      /** What the unbonding entry holds (GET /api/v1/validators lists it). */
      readonly amount: bigint;
    };

export interface StakingTxRequest {
  readonly chainId: string;
  readonly action: StakingAction;
  /** The validator's operator key: it signs every input. */
  readonly operator: KeyPair;
  /** The operator's spendable coins (others are ignored). */
  readonly coins: readonly SpendableCoin[];
  /** Fee in base units per 1000 bytes of the signed transaction. */
  readonly feeRate: bigint;
  /** Where the change goes; default: the operator's own address. */
  readonly changeLock?: Lock;
}

export interface StakingTx {
  readonly tx: Transaction;
  /** What the transaction pays the proposer: inputs + withdrawn - outputs - bonded. */
  readonly fee: bigint;
  /** The coins it spends, in input order. */
  readonly spent: readonly SpendableCoin[];
}

const PLACEHOLDER_WITNESS: Witness = {
  publicKey: new Uint8Array(33),
  signature: new Uint8Array(64),
};

/** True for a 33-byte compressed secp256k1 point on the curve (the rule the node applies). */
export const isValidConsensusKey: (key: Uint8Array) => boolean = isValidPublicKey;

function toPayload(action: StakingAction): StakingPayload {
  return action.kind === 'withdraw'
    ? { kind: 'withdraw', creationHeight: action.creationHeight }
    : action;
}

/** Refuses, before anything is signed, what the node would refuse as malformed. */
function checkAction(action: StakingAction): void {
  const invalid = (message: string, details: Record<string, unknown> = {}) =>
    new TxBuildError('INVALID_TX_REQUEST', message, details);
  if (action.kind === 'bond' || action.kind === 'unbond' || action.kind === 'withdraw') {
    if (action.amount <= 0n || !isValidAmount(action.amount))
      throw invalid(`a ${action.kind} amount must be above zero and at most the money supply`, {
        amount: action.amount.toString(),
      });
  }
  if (action.kind === 'bond' || action.kind === 'rotateKey') {
    if (!isValidConsensusKey(action.consensusKey))
      throw invalid('the consensus key must be a 33-byte compressed secp256k1 public key');
  }
  if (action.kind === 'withdraw') {
    const h = action.creationHeight;
    if (!Number.isInteger(h) || h < 0 || h > 0xffff_ffff)
      throw invalid(`creation height ${h} is not a block height`, { creationHeight: h });
  }
}

/**
 * Builds and signs a staking transaction: coins of the operator largest
 * first until they cover what the action takes plus the fee and leave change
 * of at least the dust limit (the change output is the transaction's one
 * output). The fee is exact: witnesses have a fixed size.
 */
export function buildStakingTransaction(req: StakingTxRequest): StakingTx {
  checkAction(req.action);
  const operatorLock = pubkeyLock(req.operator.publicKey);
  const changeLock = req.changeLock ?? operatorLock;
  const payload = encodeStakingPayload(toPayload(req.action));
  const takes = req.action.kind === 'bond' ? req.action.amount : 0n;
  const gives = req.action.kind === 'withdraw' ? req.action.amount : 0n;
  const dust = dustLimit(req.feeRate);
  // Only the operator's coins: the first input's signer is the operator, and
  // one key signing every input keeps that true whatever the order.
  const candidates = req.coins
    .filter(
      (c) => c.lock.type === LockType.pubkeyHash && bytesEqual(c.lock.hash, operatorLock.hash),
    )
    .sort((a, b) => (a.amount < b.amount ? 1 : a.amount > b.amount ? -1 : 0));
  const draft = (coins: readonly SpendableCoin[], change: bigint) =>
    new Transaction({
      version: TX_VERSION,
      inputs: coins.map((c) => ({ prevout: c.outpoint })),
      outputs: [{ amount: change, lock: changeLock }],
      lockTime: 0,
      payload,
      witnesses: coins.map(() => PLACEHOLDER_WITNESS),
    });
  const selected: SpendableCoin[] = [];
  let total = 0n;
  let fee = feeForSize(draft([], 0n).size, req.feeRate);
  for (const coin of candidates) {
    selected.push(coin);
    total += coin.amount;
    fee = feeForSize(draft(selected, 0n).size, req.feeRate);
    const change = total + gives - takes - fee;
    if (change >= dust) {
      const tx = signTransaction(draft(selected, change), selected, [req.operator], req.chainId);
      return { tx, fee, spent: selected };
    }
  }
  const needed = takes + fee + dust - gives;
  throw new TxBuildError(
    'INSUFFICIENT_FUNDS',
    `insufficient funds: the operator can spend ${formatCoins(total)} coins; this ${req.action.kind} needs ${formatCoins(needed > 0n ? needed : 0n)} (${takes > 0n ? `${formatCoins(takes)} to bond, ` : ''}a fee of ${formatCoins(fee)} and change of at least ${formatCoins(dust)} coins)`,
    {
      available: total.toString(),
      needed: (needed > 0n ? needed : 0n).toString(),
      fee: fee.toString(),
    },
  );
}
