import type { Transaction } from '../primitives/index.ts';
import { toHex, UtxodError } from '../util/index.ts';
import type {
  BalanceResponse,
  BlockResponse,
  ChainInfoResponse,
  CoinResponse,
  ConsensusResponse,
  ContractQueryResponse,
  ContractResponse,
  ErrorBody,
  EvidenceResponse,
  FeeEstimateResponse,
  HeadersResponse,
  HistoryResponse,
  MempoolEntriesResponse,
  MempoolSummaryResponse,
  NodeStatusResponse,
  PeerListResponse,
  ReadinessResponse,
  StorageProofResponse,
  SubmitTxResponse,
  TipResponse,
  TxStatusResponse,
  UtxosResponse,
  ValidatorResponse,
  ValidatorsResponse,
} from './types.ts';

export const DEFAULT_RPC_URL = 'http://127.0.0.1:8645';

/**
 * A failed API call. `code` is the API's stable error code (docs/api.md),
 * or RPC_UNREACHABLE / RPC_BAD_RESPONSE when no API answer arrived.
 */
export class RpcError extends UtxodError<string> {
  /** HTTP status; 0 when the server could not be reached. */
  readonly status: number;
  readonly requestId: string | null;

  constructor(
    status: number,
    code: string,
    message: string,
    details: Record<string, unknown> = {},
    requestId: string | null = null,
  ) {
    super(code, message, details);
    this.status = status;
    this.requestId = requestId;
  }
}

export interface RpcClientOptions {
  /** Base URL of the node, e.g. http://127.0.0.1:8645 (no /api/v1). */
  readonly url?: string;
  /** Bearer token sent with every request when set. */
  readonly token?: string;
  readonly timeoutMs?: number;
  /** Injected for tests; defaults to the global fetch. */
  readonly fetch?: typeof fetch;
}

type Query = Record<string, string | number | boolean | undefined>;

/** Typed client for the node's /api/v1: one method per route (types in ./types.ts). Uses only fetch: runs in browsers too. */
export class RpcClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;
  private readonly fetchFn: typeof fetch;

  constructor(opts: RpcClientOptions = {}) {
    this.url = (opts.url ?? DEFAULT_RPC_URL).replace(/\/+$/, '');
    this.token = opts.token;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    // Called through a wrapper: a browser's fetch throws "Illegal invocation" when called as a method of another object.
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
  }

  // ------------------------------------------------------------ chain

  tip(): Promise<TipResponse> {
    return this.get('/api/v1/chain/tip');
  }

  chainInfo(): Promise<ChainInfoResponse> {
    return this.get('/api/v1/chain/info');
  }

  block(ref: number | string, opts: { txs?: boolean } = {}): Promise<BlockResponse> {
    const path =
      typeof ref === 'number'
        ? `/api/v1/blocks/height/${ref}`
        : `/api/v1/blocks/hash/${encodeURIComponent(ref)}`;
    return this.get(path, { txs: opts.txs });
  }

  headers(from: number, count?: number): Promise<HeadersResponse> {
    return this.get('/api/v1/headers', { from, count });
  }

  /** The set deciding the next block, with stake, status and missed blocks. */
  validators(): Promise<ValidatorsResponse> {
    return this.get('/api/v1/validators');
  }

  /** One registered validator by id (64 hex) or consensus key (66 hex), unbonding entries included. */
  validator(id: string): Promise<ValidatorResponse> {
    return this.get(`/api/v1/validators/${encodeURIComponent(id)}`);
  }

  /** Validators punished by committed duplicate-vote evidence, paged by validator id. */
  evidence(page: { limit?: number; after?: string } = {}): Promise<EvidenceResponse> {
    return this.get('/api/v1/evidence', page);
  }

  /** The consensus engine now: height, round, step, proposer, votes seen per round. */
  consensus(): Promise<ConsensusResponse> {
    return this.get('/api/v1/consensus');
  }

  // ------------------------------------------------------ transactions

  tx(txid: string, opts: { hex?: boolean } = {}): Promise<TxStatusResponse> {
    return this.get(`/api/v1/txs/${encodeURIComponent(txid)}`, { hex: opts.hex });
  }

  submitTx(tx: Transaction | string): Promise<SubmitTxResponse> {
    const hex = typeof tx === 'string' ? tx : toHex(tx.encode());
    return this.request('POST', '/api/v1/txs', undefined, { hex });
  }

  // ------------------------------------------------------ contracts

  /**
   * A read-only call of a deployed contract at the node's tip
   * (`POST /api/v1/contracts/{id}/query`; docs/contracts.md). `args` is the
   * canonical argument text (encodeContractArgs); the value comes back in the
   * same canonical form.
   */
  contractQuery(
    id: string,
    body: { method: string; args: string; gasLimit?: number },
  ): Promise<ContractQueryResponse> {
    return this.request(
      'POST',
      `/api/v1/contracts/${encodeURIComponent(id)}/query`,
      undefined,
      body,
    );
  }

  /** A deployed contract: code hash, size, methods, the first `limit` storage entries. */
  contract(id: string, opts: { limit?: number } = {}): Promise<ContractResponse> {
    return this.get(`/api/v1/contracts/${encodeURIComponent(id)}`, { limit: opts.limit });
  }

  /**
   * One storage value with its state proof against block `height`'s stateRoot
   * (default the tip): check it with verifyProof (docs/contracts.md, "API").
   */
  contractStorage(
    id: string,
    key: string,
    opts: { height?: number } = {},
  ): Promise<StorageProofResponse> {
    return this.get(
      `/api/v1/contracts/${encodeURIComponent(id)}/storage/${encodeURIComponent(key)}`,
      { height: opts.height },
    );
  }

  coin(txid: string, index: number): Promise<CoinResponse> {
    return this.get(`/api/v1/coins/${encodeURIComponent(txid)}/${index}`);
  }

  /** Polls until the transaction is committed; resolves with its status. */
  async waitForTx(
    txid: string,
    opts: { timeoutMs?: number; intervalMs?: number } = {},
  ): Promise<TxStatusResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
    for (;;) {
      const status = await this.tx(txid);
      if (status.status === 'committed') return status;
      if (Date.now() > deadline)
        throw new RpcError(0, 'RPC_TIMEOUT', `transaction ${txid} not committed in time`, {
          lastStatus: status.status,
        });
      await new Promise((resolve) => setTimeout(resolve, opts.intervalMs ?? 250));
    }
  }

  // --------------------------------------------------------- addresses

  balance(address: string): Promise<BalanceResponse> {
    return this.get(`/api/v1/addresses/${encodeURIComponent(address)}/balance`);
  }

  utxos(address: string, page: { limit?: number; after?: string } = {}): Promise<UtxosResponse> {
    return this.get(`/api/v1/addresses/${encodeURIComponent(address)}/utxos`, page);
  }

  /** Every unspent coin of `address`, following the pages. */
  async allUtxos(address: string): Promise<UtxosResponse['items']> {
    const items: UtxosResponse['items'] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.utxos(address, {
        limit: 1000,
        ...(after === undefined ? {} : { after }),
      });
      items.push(...page.items);
      if (page.next === null) return items;
      after = page.next;
    }
  }

  history(
    address: string,
    page: { limit?: number; before?: number } = {},
  ): Promise<HistoryResponse> {
    return this.get(`/api/v1/addresses/${encodeURIComponent(address)}/txs`, page);
  }

  // ----------------------------------------------------------- mempool

  mempool(): Promise<MempoolSummaryResponse> {
    return this.get('/api/v1/mempool');
  }

  mempoolTxs(page: { limit?: number; offset?: number } = {}): Promise<MempoolEntriesResponse> {
    return this.get('/api/v1/mempool/txs', page);
  }

  feeEstimate(): Promise<FeeEstimateResponse> {
    return this.get('/api/v1/fees/estimate');
  }

  // -------------------------------------------------------------- node

  status(): Promise<NodeStatusResponse> {
    return this.get('/api/v1/node/status');
  }

  /** Connected peers with score and handshake (an admin route). */
  peers(): Promise<PeerListResponse> {
    return this.get('/api/v1/admin/peers');
  }

  /** Readiness without throwing on 503: the body says which component is not ready. */
  ready(): Promise<ReadinessResponse> {
    return this.request('GET', '/health/ready', undefined, undefined, [503]);
  }

  // ---------------------------------------------------------- plumbing

  private get<T>(path: string, query?: Query): Promise<T> {
    return this.request('GET', path, query);
  }

  private async request<T>(
    method: string,
    path: string,
    query?: Query,
    body?: unknown,
    okStatuses: readonly number[] = [],
  ): Promise<T> {
    const url = new URL(this.url + path);
    for (const [key, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(key, String(value));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token !== undefined && this.token !== '')
      headers['authorization'] = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await this.fetchFn(url, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new RpcError(
        0,
        'RPC_UNREACHABLE',
        `cannot reach ${this.url}: ${(error as Error).message}`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // The body is reported by status, not echoed: it may be an HTML error page.
      throw new RpcError(
        response.status,
        'RPC_BAD_RESPONSE',
        `${method} ${path}: HTTP ${response.status} with a body that is not JSON`,
      );
    }
    if (response.ok || okStatuses.includes(response.status)) return parsed as T;
    const error = (parsed as Partial<ErrorBody> | undefined)?.error;
    if (error === undefined || typeof error.code !== 'string')
      throw new RpcError(
        response.status,
        'RPC_BAD_RESPONSE',
        `${method} ${path}: HTTP ${response.status}`,
      );
    throw new RpcError(
      response.status,
      error.code,
      error.message,
      (error.details as Record<string, unknown> | undefined) ?? {},
      (parsed as ErrorBody).requestId ?? response.headers.get('x-request-id'),
    );
  }
}
