import type { NetworkName } from '../crypto/index.ts';
import { COIN, MAX_BLOCK_BYTES, MAX_TX_BYTES } from '../primitives/index.ts';
import { type ContractParams, DEFAULT_CONTRACT_PARAMS } from '../vm/index.ts';
import { DEFAULT_STAKING_PARAMS, type StakingParams } from './staking/index.ts';

export type { NetworkName };

/** Rules every node of one chain must agree on; fixed by the genesis file. */
export interface ConsensusParams {
  readonly network: NetworkName;
  readonly chainId: string;
  /** Blocks a coinbase output waits before it can be spent. */
  readonly coinbaseMaturity: number;
  readonly initialSubsidy: bigint;
  /** The subsidy halves every this many blocks. */
  readonly halvingInterval: number;
  readonly maxBlockBytes: number;
  readonly maxTxBytes: number;
  /** A proposed block's time may be at most this far ahead of the local clock. */
  readonly maxFutureBlockTimeMs: number;
  /** A checkpoint (height, hash, UTXO commitment) is recorded every this many blocks. */
  readonly checkpointInterval: number;
  /** Validator registry, liveness and slashing rules (docs/staking.md). */
  readonly staking: StakingParams;
  /** Block gas limit, least gas price, gas of a spend rule (docs/contracts.md). */
  readonly contracts: ContractParams;
}

export const DEVNET_PARAMS: Omit<ConsensusParams, 'chainId'> = {
  network: 'devnet',
  coinbaseMaturity: 10,
  initialSubsidy: 50n * COIN,
  halvingInterval: 2_100_000,
  maxBlockBytes: MAX_BLOCK_BYTES,
  maxTxBytes: MAX_TX_BYTES,
  maxFutureBlockTimeMs: 15_000,
  checkpointInterval: 100,
  staking: DEFAULT_STAKING_PARAMS,
  contracts: DEFAULT_CONTRACT_PARAMS,
};

export function blockSubsidy(params: ConsensusParams, height: number): bigint {
  const halvings = Math.floor(height / params.halvingInterval);
  return halvings >= 64 ? 0n : params.initialSubsidy >> BigInt(halvings);
}
