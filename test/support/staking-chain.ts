/** Staking transactions on a real test chain, and the supply ledger the invariant checks. */
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import type { Chain } from '../../src/chain/chain.ts';
import { type SpendableCoin, signTransaction } from '../../src/client/tx-builder.ts';
import { blockSubsidy } from '../../src/consensus/params.ts';
import { readTotals } from '../../src/consensus/staking/ledger.ts';
import { encodeStakingPayload, type StakingPayload } from '../../src/consensus/staking/payload.ts';
import type { KeyPair } from '../../src/crypto/key-file.ts';
import type { Block } from '../../src/primitives/block.ts';
import { decodeCoin } from '../../src/primitives/coin.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { Transaction, TX_VERSION, type TxPayload } from '../../src/primitives/transaction.ts';
import { signSoloCommit } from './chain-fixture.ts';

export const STAKE_FEE = 10_000n;

/**
 * A staking transaction of `operator`, spending `coin` (theirs): the payload,
 * one output back to the operator of coin - bonded + withdrawn - fee.
 */
export function stakingTx(
  chainId: string,
  operator: KeyPair,
  coin: SpendableCoin,
  payload: StakingPayload,
  moved: { bonded?: bigint; withdrawn?: bigint } = {},
): Transaction {
  return payloadTx(chainId, operator, coin, encodeStakingPayload(payload), moved);
}

/**
 * `stakingTx` with the payload bytes as given, so a test can send a staking
 * payload the encoder would never produce (truncated, extended, zero amount).
 */
export function payloadTx(
  chainId: string,
  operator: KeyPair,
  coin: SpendableCoin,
  payload: TxPayload,
  moved: { bonded?: bigint; withdrawn?: bigint } = {},
): Transaction {
  const amount = coin.amount - (moved.bonded ?? 0n) + (moved.withdrawn ?? 0n) - STAKE_FEE;
  const tx = new Transaction({
    version: TX_VERSION,
    inputs: [{ prevout: coin.outpoint }],
    outputs: [{ amount, lock: pubkeyLock(operator.publicKey) }],
    lockTime: 0,
    payload,
    witnesses: [{ publicKey: new Uint8Array(33), signature: new Uint8Array(64) }],
  });
  return signTransaction(tx, [coin], [operator], chainId);
}

/** Output 0 of `tx` as a spendable coin. */
export function firstOutput(tx: Transaction): SpendableCoin {
  return {
    outpoint: { txid: tx.txid, index: 0 },
    amount: tx.outputs[0]!.amount,
    lock: tx.outputs[0]!.lock,
  };
}

/**
 * Assembles (fees computed by the assembler, so nothing is burned), signs
 * with `signer` alone (it must hold more than 2/3 of the power) and connects.
 */
export async function produceBlock(
  chain: Chain,
  signer: KeyPair,
  txs: readonly Transaction[],
  time: number,
): Promise<Block> {
  const block = await assembleBlock(chain, {
    txs,
    proposer: signer.publicKey,
    rewardLock: pubkeyLock(signer.publicKey),
    time,
  });
  const index = chain.validatorsAt(block.height).indexOf(signer.publicKey);
  await chain.connectBlock(block, signSoloCommit(chain.chainIdHash, block, signer, index), {
    now: null,
  });
  return block;
}

/**
 * Both sides of the supply invariant at the tip: coins + bonded + unbonding
 * on one, genesis supply + rewards - burned - slashed on the other (nothing
 * is burned when the assembler computes the fees).
 */
export async function supplySides(
  chain: Chain,
  genesisSupply: bigint,
): Promise<{ held: bigint; issued: bigint }> {
  let coins = 0n;
  for await (const [, raw] of chain.store.coins.entries()) coins += decodeCoin(raw).amount;
  const totals = await readTotals(chain.state);
  let rewards = 0n;
  for (let h = 1; h <= chain.tipHeight; h++) rewards += blockSubsidy(chain.params, h);
  return {
    held: coins + totals.bonded + totals.unbonding,
    issued: genesisSupply + rewards - totals.slashed,
  };
}
