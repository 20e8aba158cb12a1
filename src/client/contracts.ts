import { sign } from '../crypto/index.ts';
import {
  type ContractPayload,
  contractId,
  contractLock,
  encodeContractPayload,
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
  type Witness,
} from '../primitives/index.ts';
import { bytesEqual, fromHex, toHex } from '../util/index.ts';
import {
  type BuildTransactionRequest,
  buildTransaction,
  dustLimit,
  feeForSize,
  type KeyPair,
  type SpendableCoin,
  TxBuildError,
} from './tx-builder.ts';

/** What every contract transaction builder needs besides its payload. */
export type ContractTxRequest = Omit<
  BuildTransactionRequest,
  'outputs' | 'payload' | 'extraFee' | 'memo'
> & {
  /** Payments made by the same transaction (e.g. coins locked to a contract). */
  readonly outputs?: readonly TxOutput[];
  readonly gasLimit: number;
  /** Base units per unit of gas; at least the network's minimum. */
  readonly gasPrice: bigint;
};

/**
 * Contract arguments as the payload carries them: canonical JSON of an array
 * with bigints written {"$bigint":"123"} (docs/contracts.md). Refuses what
 * has no canonical form (non-finite numbers, undefined, functions).
 */
export function encodeContractArgs(args: readonly unknown[]): Uint8Array {
  const text = JSON.stringify(args, (_key, value: unknown) => {
    if (typeof value === 'bigint') return { $bigint: value.toString() };
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new TxBuildError('INVALID_TX_REQUEST', 'contract arguments hold a non-finite number');
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol')
      throw new TxBuildError('INVALID_TX_REQUEST', `contract arguments hold a ${typeof value}`);
    return value;
  });
  return new TextEncoder().encode(text);
}

function withPayload(req: ContractTxRequest, payload: ContractPayload): Transaction {
  const encoded = encodeContractPayload(payload);
  return buildTransaction({
    ...req,
    outputs: req.outputs ?? [],
    payload: encoded,
    extraFee: BigInt(req.gasLimit) * req.gasPrice,
  });
}

/**
 * A deploy: `code` (the module's source) and the arguments of its `init`.
 * The id of the contract it creates follows from the transaction id.
 */
export function buildDeploy(
  req: ContractTxRequest & { readonly code: string; readonly args?: readonly unknown[] },
): { tx: Transaction; contractId: Uint8Array } {
  const tx = withPayload(req, {
    kind: 'deploy',
    gasLimit: req.gasLimit,
    gasPrice: req.gasPrice,
    code: new TextEncoder().encode(req.code),
    args: req.args === undefined ? new Uint8Array(0) : encodeContractArgs(req.args),
  });
  return { tx, contractId: contractId(tx.txid) };
}

/** A call of `method` of contract `id` (hex or bytes). The first input's key is the caller. */
export function buildCall(
  req: ContractTxRequest & {
    readonly contractId: string | Uint8Array;
    readonly method: string;
    readonly args?: readonly unknown[];
  },
): Transaction {
  return withPayload(req, {
    kind: 'call',
    contractId: typeof req.contractId === 'string' ? fromHex(req.contractId, 32) : req.contractId,
    gasLimit: req.gasLimit,
    gasPrice: req.gasPrice,
    method: req.method,
    args: encodeContractArgs(req.args ?? []),
  });
}

/** An output paying `amount` to contract `id`: only the contract's `spend` rule releases it. */
export function payToContract(id: string | Uint8Array, amount: bigint): TxOutput {
  return { amount, lock: contractLock(typeof id === 'string' ? fromHex(id, 32) : id) };
}

export interface ContractSpendRequest {
  readonly chainId: string;
  /** The contract-locked coins to spend (their lock type must be `contract`). */
  readonly contractCoins: readonly SpendableCoin[];
  /** Keys that sign the contract inputs, in order (ctx.tx.signers); the rest sign nothing. */
  readonly signers: readonly KeyPair[];
  readonly outputs: readonly TxOutput[];
  /** Where what the contract coins hold beyond the outputs (and, unfunded, the fee) goes; dropped to the fee when dust. */
  readonly changeLock: Lock;
  readonly feeRate: bigint;
  /** The network's spendGasLimit and minGasPrice: each contract input owes their product. */
  readonly spendGasLimit: number;
  readonly minGasPrice: bigint;
  readonly lockTime?: number;
  /**
   * Wallet coins that pay the fee (and whatever the outputs take beyond the
   * contract coins) instead of the contract coins. Their keys sign them, so
   * those keys join ctx.tx.signers too.
   */
  readonly funding?: ContractSpendFunding;
}

export interface ContractSpendFunding {
  /** Candidates, spent largest first and only as many as needed. */
  readonly coins: readonly SpendableCoin[];
  readonly keys: readonly KeyPair[];
  /** Where the wallet's change goes (dropped to the fee when dust). */
  readonly changeLock: Lock;
}

const EMPTY_WITNESS: Witness = { publicKey: new Uint8Array(33), signature: new Uint8Array(64) };

/**
 * Spends coins locked to a contract. Input i is signed by signers[i] when
 * there is one (its key joins ctx.tx.signers) and carries an empty witness
 * otherwise. The fee (size fee plus spend gas) comes out of the contract
 * coins, or out of `funding`'s coins when given: then the contract coins'
 * surplus over the outputs goes to `changeLock` whole, which a rule such as
 * "the rest must go back to the contract" needs.
 */
export function buildContractSpend(req: ContractSpendRequest): Transaction {
  if (req.contractCoins.length === 0)
    throw new TxBuildError('INVALID_TX_REQUEST', 'no contract coins to spend');
  if (req.signers.length > req.contractCoins.length)
    throw new TxBuildError('INVALID_TX_REQUEST', 'more signers than contract inputs');
  for (const coin of req.contractCoins) {
    if (coin.lock.type !== LockType.contract)
      throw new TxBuildError('INVALID_TX_REQUEST', 'a coin not locked to a contract');
  }
  const total = sumAmounts(
    req.contractCoins.map((c) => c.amount),
    'contract coins',
  );
  const paid = sumAmounts(
    req.outputs.map((o) => o.amount),
    'outputs',
  );
  const gasFee = BigInt(req.contractCoins.length) * BigInt(req.spendGasLimit) * req.minGasPrice;
  if (req.funding !== undefined) return fundedSpend(req, req.funding, total, paid, gasFee);
  const withChange = spendDraft(req, req.contractCoins, [
    ...req.outputs,
    { amount: 0n, lock: req.changeLock },
  ]);
  const fee = feeForSize(withChange.size, req.feeRate) + gasFee;
  if (total < paid + fee) {
    throw new TxBuildError(
      'INSUFFICIENT_FUNDS',
      `insufficient funds: ${formatCoins(total)} coins locked, ${formatCoins(paid)} coins plus a fee of ${formatCoins(fee)} needed`,
      { available: total.toString(), needed: paid.toString(), fee: fee.toString() },
    );
  }
  const change = total - paid - fee;
  const outputs =
    change >= dustLimit(req.feeRate)
      ? [...req.outputs, { amount: change, lock: req.changeLock }]
      : [...req.outputs];
  if (outputs.length === 0)
    throw new TxBuildError('INVALID_TX_REQUEST', 'a transaction needs at least one output');
  return signSpend(req, req.contractCoins, spendDraft(req, req.contractCoins, outputs), []);
}

/**
 * The contract coins pay the outputs (their surplus to changeLock); wallet
 * coins, largest first, pay the fee and any shortfall. The two changes stay
 * apart so that neither side's coins end up at the other's lock.
 */
function fundedSpend(
  req: ContractSpendRequest,
  funding: ContractSpendFunding,
  total: bigint,
  paid: bigint,
  gasFee: bigint,
): Transaction {
  const dust = dustLimit(req.feeRate);
  const surplus = total > paid ? total - paid : 0n;
  const contractChange: TxOutput[] =
    surplus >= dust ? [{ amount: surplus, lock: req.changeLock }] : [];
  const shortfall = paid > total ? paid - total : 0n;
  const candidates = [...funding.coins].sort((a, b) =>
    a.amount < b.amount ? 1 : a.amount > b.amount ? -1 : 0,
  );
  const selected: SpendableCoin[] = [];
  let have = 0n;
  let fee = 0n;
  for (const coin of candidates) {
    selected.push(coin);
    have += coin.amount;
    const coins = [...req.contractCoins, ...selected];
    const withChange = spendDraft(req, coins, [
      ...req.outputs,
      ...contractChange,
      { amount: 0n, lock: funding.changeLock },
    ]);
    fee = feeForSize(withChange.size, req.feeRate) + gasFee;
    if (have < shortfall + fee) continue;
    const change = have - shortfall - fee;
    const outputs = [
      ...req.outputs,
      ...contractChange,
      ...(change >= dust ? [{ amount: change, lock: funding.changeLock }] : []),
    ];
    if (outputs.length === 0)
      throw new TxBuildError('INVALID_TX_REQUEST', 'a transaction needs at least one output');
    return signSpend(req, coins, spendDraft(req, coins, outputs), funding.keys);
  }
  throw new TxBuildError(
    'INSUFFICIENT_FUNDS',
    `insufficient funds: the wallet has ${formatCoins(have)} coins, and ${formatCoins(shortfall)} coins plus a fee of ${formatCoins(fee)} are needed`,
    { available: have.toString(), needed: shortfall.toString(), fee: fee.toString() },
  );
}

function spendDraft(
  req: ContractSpendRequest,
  coins: readonly SpendableCoin[],
  outputs: readonly TxOutput[],
): Transaction {
  return new Transaction({
    version: TX_VERSION,
    inputs: coins.map((c) => ({ prevout: c.outpoint })),
    outputs,
    lockTime: req.lockTime ?? 0,
    payload: null,
    witnesses: coins.map(() => EMPTY_WITNESS),
  });
}

/** Contract input i signed by signers[i] (or empty); every later input by the wallet key its lock names. */
function signSpend(
  req: ContractSpendRequest,
  coins: readonly SpendableCoin[],
  unsigned: Transaction,
  walletKeys: readonly KeyPair[],
): Transaction {
  const context = new SighashContext(hashChainId(req.chainId), unsigned, coins);
  const contractInputs = req.contractCoins.length;
  return unsigned.withWitnesses(
    coins.map((coin, i) => {
      const key =
        i < contractInputs
          ? req.signers[i]
          : walletKeys.find((k) => bytesEqual(pubkeyHash(k.publicKey), coin.lock.hash));
      if (key === undefined) {
        if (i < contractInputs) return EMPTY_WITNESS;
        throw new TxBuildError(
          'NO_KEY_FOR_COIN',
          `no key for coin ${toHex(coin.outpoint.txid)}:${coin.outpoint.index}`,
        );
      }
      return { publicKey: key.publicKey, signature: sign(context.forInput(i), key.privateKey) };
    }),
  );
}
