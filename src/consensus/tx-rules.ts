import type { Coin } from '../primitives/index.ts';
import {
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
  // Contract locks exist in the encoding, but blocks do not run contracts yet:
  // coins locked to one now could never be spent, so none may be created.
  if (tx.outputs.some((o) => o.lock.type !== LockType.pubkeyHash)) {
    throw new VerificationError(
      'TX_LOCK_NOT_ACTIVE',
      'an output is locked to a contract, and contracts do not run in blocks yet',
      id(),
    );
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
  return available - needed;
}

/** One signature job per input, each over the input's signature hash. */
export function signatureJobs(
  tx: Transaction,
  spent: readonly TxOutput[],
  chainIdHash: Uint8Array,
): LocatedSignatureJob[] {
  const context = new SighashContext(chainIdHash, tx, spent);
  return tx.witnesses.map((witness, inputIndex) => ({
    msg: context.forInput(inputIndex),
    sig: witness.signature,
    pub: witness.publicKey,
    txid: tx.txid,
    inputIndex,
  }));
}
