/** The few API calls the harness makes, each to an address of its own chaos network only. */
import type { ChaosNetwork } from './netns.ts';

export interface HeaderView {
  readonly hash: string;
  readonly height: number;
  readonly utxoRoot: string;
  /** The proposer's validator key, hex. */
  readonly proposer: string;
  /** The hash of the validator set deciding this height. */
  readonly validatorSetHash: string;
}

export interface ConsensusView {
  readonly height: number;
  readonly round: number;
  readonly step: string;
  readonly proposer: { readonly index: number; readonly publicKey: string };
}

export class NodeApi {
  readonly baseUrl: string;
  private readonly net: ChaosNetwork;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(net: ChaosNetwork, baseUrl: string, token: string, timeoutMs = 8_000) {
    net.assertOwnAddress(new URL(baseUrl).hostname);
    this.net = net;
    this.baseUrl = baseUrl;
    this.token = token;
    this.timeoutMs = timeoutMs;
  }

  async tipHeight(): Promise<number> {
    return ((await this.get('/api/v1/chain/tip')) as { height: number }).height;
  }

  /** Headers from `from` up to `count` of them (the API caps one page). */
  async headers(from: number, count: number): Promise<HeaderView[]> {
    const out: HeaderView[] = [];
    while (out.length < count) {
      const page = (await this.get(
        `/api/v1/headers?from=${from + out.length}&count=${Math.min(100, count - out.length)}`,
      )) as {
        headers: HeaderView[];
      };
      if (page.headers.length === 0) break;
      out.push(...page.headers);
    }
    return out;
  }

  /** The BFT engine's height, round and the round's proposer (GET /api/v1/consensus). */
  async consensus(): Promise<ConsensusView> {
    return (await this.get('/api/v1/consensus')) as ConsensusView;
  }

  /** The set deciding the next block (GET /api/v1/validators). */
  async validators(): Promise<{
    height: number;
    validators: Array<{ index: number; publicKey: string; power: string }>;
  }> {
    return (await this.get('/api/v1/validators')) as {
      height: number;
      validators: Array<{ index: number; publicKey: string; power: string }>;
    };
  }

  async txStatus(txid: string): Promise<'mempool' | 'committed' | 'unknown'> {
    return (await this.tx(txid)).status;
  }

  /** A transaction's status and, once committed, its height. */
  async tx(
    txid: string,
  ): Promise<{ status: 'mempool' | 'committed' | 'unknown'; height?: number }> {
    return (await this.get(`/api/v1/txs/${txid}`)) as {
      status: 'mempool' | 'committed' | 'unknown';
      height?: number;
    };
  }

  /** The lowest height the node stores: 0, or the snapshot height a state-synced node began at. */
  async earliestHeight(): Promise<number> {
    return ((await this.get('/api/v1/node/status')) as { earliestHeight: number }).earliestHeight;
  }

  async submit(hex: string): Promise<void> {
    await this.request('POST', '/api/v1/txs', { hex });
  }

  async utxos(address: string): Promise<Array<{ txid: string; index: number; amount: string }>> {
    return (
      (await this.get(`/api/v1/addresses/${address}/utxos?limit=1000`)) as {
        items: Array<{ txid: string; index: number; amount: string }>;
      }
    ).items;
  }

  private get(path: string): Promise<unknown> {
    return this.request('GET', path);
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    this.net.assertReady();
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text();
    if (!response.ok)
      throw new ApiError(
        response.status,
        `${method} ${path}: ${response.status} ${text.slice(0, 200)}`,
      );
    return JSON.parse(text) as unknown;
  }
}

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}
