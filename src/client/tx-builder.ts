import { sign } from '../crypto/index.ts';
import type { Outpoint } from '../primitives/index.ts';
import {
  formatCoins,
  chainIdHash as hashChainId,
  type Lock,
  LockType,
  pubkeyHash,
  SighashContext,
  sumAmounts,
  Transaction,
  TX_VERSION,
  type TxOutput,
  type TxPayload,
  type Witness,
} from '../primitives/index.ts';
import { bytesEqual, toHex, UtxodError } from '../util/index.ts';

export class TxBuildError extends UtxodError<
  'INSUFFICIENT_FUNDS' | 'NO_KEY_FOR_COIN' | 'INVALID_TX_REQUEST' | 'DUST_OUTPUT'
> {}

/** A secp256k1 key pair (33-byte compressed public key). */
export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

/** A coin the wallet may spend: where it is, how much, and what lock guards it. */
export interface SpendableCoin {
  readonly outpoint: Outpoint;
  readonly amount: bigint;
  readonly lock: Lock;
}

export interface BuildTransactionRequest {
  readonly chainId: string;
  readonly coins: readonly SpendableCoin[];
  readonly outputs: readonly TxOutput[];
  /** Where change goes. */
  readonly changeLock: Lock;
  /** Fee in base units per 1000 bytes of the signed transaction. */
  readonly feeRate: bigint;
  readonly keys: readonly KeyPair[];
  readonly lockTime?: number;
  readonly memo?: Uint8Array;
  /** A payload other than a memo (a contract deploy or call); excludes `memo`. */
  readonly payload?: TxPayload;
  /** Fee owed on top of the size fee: a contract payload's gas limit x gas price. */
  readonly extraFee?: bigint;
}

const PLACEHOLDER_WITNESS: Witness = {
  publicKey: new Uint8Array(33),
  signature: new Uint8Array(64),
};

/** Fee for `size` bytes at `feeRate` per 1000 bytes, rounded up. */
export function feeForSize(size: number, feeRate: bigint): bigint {
  return (BigInt(size) * feeRate + 999n) / 1000n;
}

/** The relay minimum of the mempool (base units per 1000 bytes): dust is judged at no less. */
export const MIN_RELAY_FEE_RATE = 1000n;

let spendBytes: number | null = null;

/** Bytes one more pubkey-locked input (outpoint and witness) adds to a transaction. */
function inputSpendBytes(): number {
  if (spendBytes === null) {
    const lock: Lock = { type: LockType.pubkeyHash, hash: new Uint8Array(32) };
    const coin = (index: number): SpendableCoin => ({
      outpoint: { txid: new Uint8Array(32), index },
      amount: 1n,
      lock,
    });
    const one = draft({}, [coin(0)], [{ amount: 1n, lock }]).size;
    const two = draft({}, [coin(0), coin(1)], [{ amount: 1n, lock }]).size;
    spendBytes = two - one;
  }
  return spendBytes;
}

/**
 * The smallest output worth creating at `feeRate`: below it, spending the
 * output later would cost more than a third of its value (Bitcoin Core's dust
 * rule), so a payment that small is refused before any fee is paid, and change
 * that small is left to the fee instead of making an unspendable coin.
 */
export function dustLimit(feeRate: bigint): bigint {
  const rate = feeRate > MIN_RELAY_FEE_RATE ? feeRate : MIN_RELAY_FEE_RATE;
  return 3n * feeForSize(inputSpendBytes(), rate);
}

/**
 * Selects coins (largest first), adds change when there is any, and signs
 * every input. Witnesses have a fixed size, so the fee is exact: the size is
 * measured on the transaction with placeholder witnesses before signing.
 */
export function buildTransaction(req: BuildTransactionRequest): Transaction {
  // A contract transaction may have change as its only output.
  if (req.outputs.length === 0 && req.payload === undefined)
    throw new TxBuildError('INVALID_TX_REQUEST', 'a transaction needs at least one output');
  if (req.payload !== undefined && req.memo !== undefined)
    throw new TxBuildError(
      'INVALID_TX_REQUEST',
      'a transaction has one payload: a memo or another',
    );
  const extraFee = req.extraFee ?? 0n;
  const target = sumAmounts(
    req.outputs.map((o) => o.amount),
    'outputs',
  );
  const dust = dustLimit(req.feeRate);
  for (const output of req.outputs)
    if (output.amount < dust)
      throw new TxBuildError(
        'DUST_OUTPUT',
        `an output of ${formatCoins(output.amount)} coins is below the dust limit of ${formatCoins(dust)} coins: spending it would cost more than a third of its value`,
        { amount: output.amount.toString(), dustLimit: dust.toString() },
      );
  const candidates = [...req.coins].sort((a, b) =>
    a.amount < b.amount ? 1 : a.amount > b.amount ? -1 : 0,
  );
  const selected: SpendableCoin[] = [];
  let selectedTotal = 0n;
  let lastFee = 0n;
  for (const coin of candidates) {
    selected.push(coin);
    selectedTotal += coin.amount;
    const withChange = draft(req, selected, [...req.outputs, { amount: 0n, lock: req.changeLock }]);
    const fee = feeForSize(withChange.size, req.feeRate) + extraFee;
    lastFee = fee;
    if (selectedTotal >= target + fee) {
      const change = selectedTotal - target - fee;
      // With no other output, the change must be worth a coin of its own.
      if (req.outputs.length === 0 && change < dust) continue;
      const outputs =
        change >= dust
          ? [...req.outputs, { amount: change, lock: req.changeLock }]
          : [...req.outputs];
      return signTransaction(draft(req, selected, outputs), selected, req.keys, req.chainId);
    }
  }
  if (lastFee === 0n)
    lastFee =
      feeForSize(
        draft(req, [], [...req.outputs, { amount: 0n, lock: req.changeLock }]).size,
        req.feeRate,
      ) + extraFee;
  throw new TxBuildError(
    'INSUFFICIENT_FUNDS',
    `insufficient funds: ${formatCoins(selectedTotal)} coins available, ${formatCoins(target)} coins plus a fee of ${formatCoins(lastFee)} needed`,
    {
      available: selectedTotal.toString(),
      needed: target.toString(),
      fee: lastFee.toString(),
    },
  );
}

function draft(
  req: Pick<BuildTransactionRequest, 'lockTime' | 'memo' | 'payload'>,
  coins: readonly SpendableCoin[],
  outputs: readonly TxOutput[],
): Transaction {
  return new Transaction({
    version: TX_VERSION,
    inputs: coins.map((c) => ({ prevout: c.outpoint })),
    outputs,
    lockTime: req.lockTime ?? 0,
    payload: req.payload ?? (req.memo === undefined ? null : { type: 0, data: req.memo }),
    witnesses: coins.map(() => PLACEHOLDER_WITNESS),
  });
}

/** Signs input i of `tx` with the key whose hash matches coins[i]'s lock. */
export function signTransaction(
  tx: Transaction,
  coins: readonly SpendableCoin[],
  keys: readonly KeyPair[],
  chainId: string,
): Transaction {
  const context = new SighashContext(hashChainId(chainId), tx, coins);
  const witnesses = coins.map((coin, i) => {
    const key = keys.find((k) => bytesEqual(pubkeyHash(k.publicKey), coin.lock.hash));
    if (key === undefined) {
      throw new TxBuildError(
        'NO_KEY_FOR_COIN',
        `no key for coin ${toHex(coin.outpoint.txid)}:${coin.outpoint.index}`,
      );
    }
    return { publicKey: key.publicKey, signature: sign(context.forInput(i), key.privateKey) };
  });
  return tx.withWitnesses(witnesses);
}
