import type { Coin } from '../primitives/index.ts';
import {
  isContractPayloadType,
  LockType,
  MAX_MONEY,
  outpointKey,
  pubkeyHash,
  SighashContext,
  sumAmounts,
  type Transaction,
  TX_VERSION,
  type TxOutput,
} from '../primitives/index.ts';
import { bytesEqual, bytesKey, toHex } from '../util/index.ts';
import { ContractRuleError, contractGasOf, isEmptyWitness } from '../vm/index.ts';
import { VerificationError } from './errors.ts';
import type { ConsensusParams } from './params.ts';
import type { LocatedSignatureJob } from './signatures.ts';
import { decodeStakingPayload, isStakingPayloadType } from './staking/index.ts';

/** Payload types with defined meaning; anything else is invalid until a version defines it. */
export const PayloadType = {
  memo: 0,
  bond: 1,
  unbond: 2,
  rotateKey: 3,
  unjail: 4,
  withdraw: 5,
} as const;
export const MAX_MEMO_BYTES = 256;

/**
 * Stateless checks: everything that can be decided from the transaction alone.
 * Run before any database lookup, so junk costs the node as little as possible.
 */
export function checkTxSanity(tx: Transaction, params: ConsensusParams): void {
  const id = () => ({ txid: toHex(tx.txid) });
  if (tx.version !== TX_VERSION)
    throw new VerificationError('TX_MALFORMED', `version ${tx.version}`, id());
  if (tx.size > params.maxTxBytes) {
    throw new VerificationError('TX_TOO_LARGE', `${tx.size} bytes > ${params.maxTxBytes}`, id());
  }
  if (tx.outputs.length === 0) throw new VerificationError('TX_NO_OUTPUTS', 'no outputs', id());
  if (tx.witnesses.length !== tx.inputs.length) {
    throw new VerificationError(
      'TX_WITNESS_COUNT',
      `${tx.witnesses.length} witnesses for ${tx.inputs.length} inputs`,
      id(),
    );
  }
  try {
    sumAmounts(
      tx.outputs.map((o) => o.amount),
      'outputs',
    );
  } catch {
    throw new VerificationError('TX_OUTPUTS_OUT_OF_RANGE', `outputs sum above ${MAX_MONEY}`, id());
  }
  const seen = new Set<string>();
  for (const input of tx.inputs) {
    const key = bytesKey(outpointKey(input.prevout));
    if (seen.has(key))
      throw new VerificationError('TX_DUPLICATE_INPUT', 'an outpoint is spent twice', id());
    seen.add(key);
  }
  if (tx.payload !== null && isStakingPayloadType(tx.payload.type)) {
    // Stateless part of the staking rules: exact shape, amounts in range, keys on the curve.
    decodeStakingPayload(tx.payload);
  } else if (tx.payload !== null && isContractPayloadType(tx.payload.type)) {
    // Stateless part of the contract rules: the payload decodes, the gas price is allowed.
    contractGasOfTx(tx, [], params);
  } else if (tx.payload !== null) {
    if (tx.payload.type !== PayloadType.memo) {
      throw new VerificationError('TX_UNKNOWN_PAYLOAD', `payload type ${tx.payload.type}`, id());
    }
    if (tx.payload.data.length > MAX_MEMO_BYTES) {
      throw new VerificationError(
        'TX_UNKNOWN_PAYLOAD',
        `memo of ${tx.payload.data.length} bytes`,
        id(),
      );
    }
  }
}

/**
 * Contextual checks of a non-coinbase transaction against the coins it spends
 * (`spent[i]` for input i) for inclusion at `height`. Returns the fee. Does not
 * check signatures: see `signatureJobs`, which batches them across a block.
 */
export function checkTxInputs(
  tx: Transaction,
  spent: readonly Coin[],
  height: number,
  params: ConsensusParams,
  staking: { readonly valueIn: bigint; readonly valueOut: bigint } = { valueIn: 0n, valueOut: 0n },
): bigint {
  const id = { txid: toHex(tx.txid) };
  if (tx.isCoinbase)
    throw new VerificationError('TX_NO_INPUTS', 'a coinbase outside the first position', id);
  if (tx.lockTime > height) {
    throw new VerificationError('TX_NOT_FINAL', `lock time ${tx.lockTime} > height ${height}`, id);
  }
  spent.forEach((coin, i) => {
    if (coin.coinbase && height - coin.height < params.coinbaseMaturity) {
      throw new VerificationError(
        'TX_IMMATURE_SPEND',
        `input ${i} spends a coinbase of height ${coin.height} before height ${coin.height + params.coinbaseMaturity}`,
        { ...id, inputIndex: i },
      );
    }
    const witness = tx.witnesses[i]!;
    // A contract-locked coin is released by its contract's spend rule (run
    // with the block's state, src/vm/chain/block.ts), not by a key.
    if (coin.lock.type === LockType.contract) return;
    if (
      coin.lock.type !== LockType.pubkeyHash ||
      !bytesEqual(pubkeyHash(witness.publicKey), coin.lock.hash)
    ) {
      throw new VerificationError(
        'TX_WRONG_KEY',
        `input ${i}: the witness key does not match the lock`,
        {
          ...id,
          inputIndex: i,
        },
      );
    }
  });
  const inputTotal = sumAmounts(
    spent.map((c) => c.amount),
    'inputs',
  );
  const outputTotal = sumAmounts(
    tx.outputs.map((o) => o.amount),
    'outputs',
  );
  // A bond takes its amount from the inputs (valueOut); a withdrawal adds the
  // matured entry to them (valueIn). What is left is the fee.
  const available = inputTotal + staking.valueIn;
  const needed = outputTotal + staking.valueOut;
  if (available < needed) {
    throw new VerificationError(
      'TX_INPUTS_BELOW_OUTPUTS',
      staking.valueIn === 0n && staking.valueOut === 0n
        ? `inputs ${inputTotal} < outputs ${outputTotal}`
        : `inputs ${inputTotal} + withdrawn ${staking.valueIn} < outputs ${outputTotal} + bonded ${staking.valueOut}`,
      id,
    );
  }
  const fee = available - needed;
  // What the contract work reserves is paid whatever it uses (a UTXO fee is fixed when signed).
  const { gasFee } = contractGasOfTx(tx, spent, params);
  if (fee < gasFee) {
    throw new VerificationError(
      'TX_FEE_BELOW_GAS',
      `fee ${fee} < ${gasFee} for the gas the transaction reserves`,
      id,
    );
  }
  return fee;
}

/**
 * Gas reserved and gas fee owed by `tx` (`spent`: its input coins), its
 * contract rule errors raised as the VerificationError of the same code.
 */
export function contractGasOfTx(
  tx: Transaction,
  spent: readonly Coin[],
  params: ConsensusParams,
): { gasReserved: number; gasFee: bigint } {
  try {
    const { gasReserved, gasFee } = contractGasOf(tx, spent, params.contracts);
    return { gasReserved, gasFee };
  } catch (error) {
    throw asVerificationError(error, tx);
  }
}

/** A ContractRuleError as the VerificationError of the same code and penalty; others unchanged. */
export function asVerificationError(error: unknown, tx?: Transaction): unknown {
  if (!(error instanceof ContractRuleError)) return error;
  const details = tx === undefined ? error.details : { txid: toHex(tx.txid), ...error.details };
  return new VerificationError(error.code, error.reason, details);
}

/**
 * One signature job per signed input, each over the input's signature hash.
 * A contract-locked input may carry the empty witness (no key signs it);
 * any other witness is verified like a pubkey input's, so a spend rule that
 * reads `ctx.tx.signers` sees only keys that really signed.
 */
export function signatureJobs(
  tx: Transaction,
  spent: readonly TxOutput[],
  chainIdHash: Uint8Array,
): LocatedSignatureJob[] {
  const context = new SighashContext(chainIdHash, tx, spent);
  const jobs: LocatedSignatureJob[] = [];
  tx.witnesses.forEach((witness, inputIndex) => {
    if (spent[inputIndex]?.lock.type === LockType.contract && isEmptyWitness(witness)) return;
    jobs.push({
      msg: context.forInput(inputIndex),
      sig: witness.signature,
      pub: witness.publicKey,
      txid: tx.txid,
      inputIndex,
    });
  });
  return jobs;
}
