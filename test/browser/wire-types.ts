/**
 * Compile-time only (`npm run typecheck`): the SDK's own wire types
 * (src/client/types.ts) must accept exactly what the API's route schemas
 * produce. If a route gains, loses or retypes a field, one of these lines
 * stops compiling. The SDK does not import the schemas: it ships without them.
 */
import type * as api from '../../src/api/schemas/addresses.ts';
import type * as chain from '../../src/api/schemas/chain.ts';
import type * as common from '../../src/api/schemas/common.ts';
import type * as contracts from '../../src/api/schemas/contracts.ts';
import type * as mempool from '../../src/api/schemas/mempool.ts';
import type * as node from '../../src/api/schemas/node.ts';
import type * as staking from '../../src/api/schemas/staking.ts';
import type * as txs from '../../src/api/schemas/txs.ts';
import type * as sdk from '../../src/client/types.ts';

/** True only when A and B are mutually assignable. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;

export type WireTypesMatch = [
  Assert<Same<sdk.BalanceResponse, api.BalanceResponse>>,
  Assert<Same<sdk.UtxosResponse, api.UtxosResponse>>,
  Assert<Same<sdk.HistoryResponse, api.HistoryResponse>>,
  Assert<Same<sdk.TipResponse, chain.TipResponse>>,
  Assert<Same<sdk.ChainInfoResponse, chain.ChainInfoResponse>>,
  Assert<Same<sdk.BlockResponse, chain.BlockResponse>>,
  Assert<Same<sdk.HeadersResponse, chain.HeadersResponse>>,
  Assert<Same<sdk.ValidatorsResponse, staking.ValidatorsResponse>>,
  Assert<Same<sdk.ValidatorResponse, staking.ValidatorResponse>>,
  Assert<Same<sdk.ContractResponse, contracts.ContractResponse>>,
  Assert<Same<sdk.StorageProofResponse, contracts.StorageProofResponse>>,
  Assert<Same<sdk.ContractQueryResponse, contracts.ContractQueryResponse>>,
  Assert<Same<sdk.EvidenceResponse, staking.EvidenceResponse>>,
  Assert<Same<sdk.ConsensusResponse, staking.ConsensusResponse>>,
  // The schema types `details` as `object`; the SDK reads it as a record of unknown values.
  Assert<[sdk.ErrorBody] extends [common.ErrorBody] ? true : false>,
  Assert<Same<sdk.MempoolSummaryResponse, mempool.MempoolSummaryResponse>>,
  Assert<Same<sdk.MempoolEntriesResponse, mempool.MempoolEntriesResponse>>,
  Assert<Same<sdk.FeeEstimateResponse, mempool.FeeEstimateResponse>>,
  Assert<Same<sdk.NodeStatusResponse, node.NodeStatusResponse>>,
  Assert<Same<sdk.ReadinessResponse, node.ReadinessResponse>>,
  Assert<Same<sdk.TxStatusResponse, txs.TxStatusResponse>>,
  Assert<Same<sdk.SubmitTxResponse, txs.SubmitTxResponse>>,
  Assert<Same<sdk.CoinResponse, txs.CoinResponse>>,
];
