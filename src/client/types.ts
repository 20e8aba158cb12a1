/**
 * The JSON the node's /api/v1 answers with, as plain types: the SDK ships
 * without the server's schema library. Amounts and fee rates are decimal
 * strings of base units (money never passes through a JSON number).
 * test/browser/wire-types.ts fails the type check when these drift from the
 * API's route schemas.
 */

/** 32 bytes as lower-case hex. */
export type Hash32 = string;
/** Base units as a decimal string. */
export type AmountString = string;
/** Base units per 1000 bytes as a decimal string. */
export type FeeRateString = string;
export type Network = 'mainnet' | 'testnet' | 'devnet';

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
  requestId: string;
}

export interface TipResponse {
  height: number;
  hash: Hash32;
  time: number;
  utxoRoot: Hash32;
  chainId: string;
}

export interface ChainInfoResponse {
  chainId: string;
  network: Network;
  addressPrefix: string;
  genesisHash: Hash32;
  genesisTime: number;
  tip: { height: number; hash: Hash32; time: number };
  params: {
    coinbaseMaturity: number;
    initialSubsidy: AmountString;
    halvingInterval: number;
    maxBlockBytes: number;
    maxTxBytes: number;
    maxFutureBlockTimeMs: number;
    checkpointInterval: number;
  };
}

export interface HeaderJson {
  hash: Hash32;
  version: number;
  height: number;
  time: number;
  prevHash: Hash32;
  txRoot: Hash32;
  utxoRoot: Hash32;
  stateRoot: Hash32;
  validatorSetHash: Hash32;
  lastCommitHash: Hash32;
  proposer: string;
}

export interface CommitJson {
  height: number;
  round: number;
  blockHash: Hash32;
  signatures: Array<{ validatorIndex: number; signature: string }>;
}

export interface TxOutputJson {
  index: number;
  amount: AmountString;
  lock: { type: number; hash: Hash32 };
  address: string;
}

export interface TxJson {
  txid: Hash32;
  wtxid: Hash32;
  version: number;
  size: number;
  coinbase: boolean;
  lockTime: number;
  inputs: Array<{
    prevout: { txid: Hash32; index: number };
    publicKey: string | null;
    signature: string | null;
  }>;
  outputs: TxOutputJson[];
  payload: { type: number; data: string } | null;
  hex?: string;
}

export interface BlockResponse {
  hash: Hash32;
  height: number;
  size: number;
  txCount: number;
  header: HeaderJson;
  lastCommit: CommitJson;
  commit: CommitJson | null;
  txids: Hash32[];
  txs?: TxJson[];
}

export interface HeadersResponse {
  headers: HeaderJson[];
}

export type ValidatorStatus = 'active' | 'jailed' | 'tombstoned' | 'inactive';

/** GET /api/v1/validators: the set deciding `height`; registry fields are null on a node without staking state. */
export interface ValidatorsResponse {
  hash: Hash32;
  totalPower: AmountString;
  height: number;
  signedBlocksWindow: number | null;
  validators: Array<{
    index: number;
    publicKey: string;
    power: AmountString;
    status: ValidatorStatus;
    validatorId: Hash32 | null;
    operator: string | null;
    bonded: AmountString | null;
    jailedUntil: number | null;
    missedBlocks: number | null;
  }>;
}

/** GET /api/v1/validators/{id}: one registered validator. */
export interface ValidatorResponse {
  validatorId: Hash32;
  operator: string;
  operatorKey: string;
  consensusKey: string;
  status: ValidatorStatus;
  index: number | null;
  power: AmountString;
  bonded: AmountString;
  jailedUntil: number | null;
  tombstoned: boolean;
  missedBlocks: number;
  observedBlocks: number;
  signedBlocksWindow: number;
  createdHeight: number;
  lastRotation: number | null;
  unbonding: Array<{ creationHeight: number; amount: AmountString; completesAt: number }>;
  unbondingTruncated: boolean;
}

/** GET /api/v1/evidence: validators punished by committed duplicate-vote evidence, and pending evidence. */
export interface EvidenceResponse {
  items: Array<{
    kind: 'duplicate-vote';
    validatorId: Hash32;
    operator: string;
    consensusKey: string;
    bonded: AmountString;
  }>;
  next: Hash32 | null;
  pending: Array<{
    consensusKey: string;
    height: number;
    round: number;
    voteType: 'prevote' | 'precommit';
  }>;
}

/** GET /api/v1/consensus: the BFT engine's state. */
export interface ConsensusResponse {
  height: number;
  round: number;
  step: string;
  lockedRound: number;
  validRound: number;
  proposer: { index: number; publicKey: string } | null;
  lastRoundChange: { height: number; round: number; at: number | null } | null;
  rounds: Array<{ round: number; prevotes: number; precommits: number; proposal: boolean }>;
}

export interface BalanceResponse {
  address: string;
  confirmed: AmountString;
  confirmedCoins: number;
  pendingOut: AmountString;
  pendingIn: AmountString;
  available: AmountString;
}

export interface UtxoJson {
  txid: Hash32;
  index: number;
  amount: AmountString;
  height: number;
  coinbase: boolean;
  spentInMempool: boolean;
}

export interface UtxosResponse {
  address: string;
  items: UtxoJson[];
  next: string | null;
}

export interface HistoryResponse {
  address: string;
  items: Array<{ txid: Hash32; height: number; position: number }>;
  next: number | null;
}

export interface TxStatusResponse {
  txid: Hash32;
  status: 'mempool' | 'committed' | 'unknown';
  height?: number;
  index?: number;
  blockHash?: Hash32;
  confirmations?: number;
  fee?: AmountString;
  feeRate?: FeeRateString;
  time?: number;
  tx?: TxJson;
}

export interface SubmitTxResponse {
  txid: Hash32;
  status: 'accepted' | 'orphan';
  fee?: AmountString;
  missingParents?: Hash32[];
}

export interface CoinResponse {
  amount: AmountString;
  height: number;
  coinbase: boolean;
  lock: { type: number; hash: Hash32 };
  address: string;
  spentInMempool: boolean;
}

export interface MempoolSummaryResponse {
  size: number;
  bytes: number;
  maxBytes: number;
  minFeeRate: FeeRateString;
  minRelayFeeRate: FeeRateString;
  orphans: number;
  accepted: number;
  rejected: Record<string, number>;
  evicted: number;
  replaced: number;
  expired: number;
}

export interface MempoolEntriesResponse {
  total: number;
  items: Array<{
    txid: Hash32;
    fee: AmountString;
    size: number;
    feeRate: FeeRateString;
    time: number;
    ancestorCount: number;
    descendantCount: number;
  }>;
  next: number | null;
}

export interface FeeEstimateResponse {
  feeRate: FeeRateString;
  minRelayFeeRate: FeeRateString;
  mempoolMinFeeRate: FeeRateString;
  nextBlock: { txs: number; bytes: number; full: boolean };
}

export interface NodeStatusResponse {
  version: string;
  chainId: string;
  network: string;
  uptimeSeconds: number;
  tip: { height: number; hash: Hash32; time: number; ageMs: number };
  /** Lowest stored height: 0, or the snapshot height the chain began at. */
  earliestHeight: number;
  syncing: boolean;
  sync: {
    state: 'idle' | 'syncing' | 'synced';
    currentHeight: number;
    targetHeight: number;
    blocksPerSecond: number;
    etaSeconds: number | null;
  } | null;
  /** The state sync this node process ran or is running; null when none. */
  stateSync: {
    phase: 'discovering' | 'fetching' | 'done';
    height: number | null;
    chunksDone: number;
    chunksTotal: number;
    bytesDone: number;
    etaSeconds: number | null;
    peers: number;
    /** The snapshot height, once done: where this node's history begins. */
    earliestHeight: number | null;
  } | null;
  peers: number;
  listenAddrs: string[];
  mempool: { size: number; bytes: number };
}

export interface ReadinessResponse {
  status: 'ready' | 'not-ready';
  components: Record<'database' | 'chain' | 'tip' | 'sync', { ok: boolean; detail: string }>;
}

export interface PeerListResponse {
  peers: Array<{
    peerId: string;
    remoteAddr: string;
    direction: 'inbound' | 'outbound';
    score: number;
    status: { tipHeight: number; tipHash: string; protocolVersion: number } | null;
  }>;
}

/** Pushed on the stream's "blocks" channel for every committed block. */
export interface BlockMessage {
  type: 'block';
  height: number;
  hash: Hash32;
  time: number;
  txCount: number;
  txids: Hash32[];
}

/** Pushed on an "address" channel when a transaction touches the address. */
export interface AddressTxMessage {
  type: 'tx';
  address: string;
  txid: Hash32;
  status: 'mempool' | 'committed';
  height?: number;
}

/** `GET /api/v1/contracts/{id}`. */
export interface ContractResponse {
  id: Hash32;
  address: string;
  codeHash: Hash32;
  codeSize: number;
  methods: string[];
  deployHeight: number;
  deployTxid: Hash32;
  /** Storage entries in key order; `key` is null when only its hash is stored. */
  storage: { key: string | null; stateKey: string; value: string }[];
  storageTruncated: boolean;
}

/** `GET /api/v1/contracts/{id}/storage/{key}`: a value (or null) and its state proof. */
export interface StorageProofResponse {
  key: string;
  value: string | null;
  height: number;
  stateRoot: Hash32;
  stateKey: string;
  proof: string;
}

/** The answer of a contract query: the value as canonical contract-value text, or why it failed. */
export interface ContractQueryResponse {
  ok: boolean;
  gasUsed: number;
  height: number;
  value?: string;
  error?: { code: string; reason: string };
}
