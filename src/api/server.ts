import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Chain } from '../chain/chain.ts';
import type { Mempool } from '../mempool/mempool.ts';
import { Transaction } from '../primitives/transaction.ts';
import { fromHex, toHex } from '../util/bytes.ts';
import { ApiError, errorHandler } from './errors.ts';

export interface ApiServerOptions {
  readonly host: string;
  readonly port: number;
  /** Largest request body accepted, in bytes (a hex transaction is twice its size). */
  readonly bodyLimit?: number;
}

const hash32 = { type: 'string', pattern: '^[0-9a-f]{64}$' } as const;

/**
 * The node's HTTP API under /api/v1. This first cut serves what a wallet needs
 * to spend: the tip, transaction submission and status, and coin lookups.
 */
export class ApiServer {
  private readonly app: FastifyInstance;
  private readonly opts: ApiServerOptions;

  private constructor(opts: ApiServerOptions, app: FastifyInstance) {
    this.opts = opts;
    this.app = app;
  }

  static async init(
    opts: ApiServerOptions,
    modules: { chain: Chain; mempool: Mempool; metricsRegistry: Registry; logger: Logger },
  ): Promise<ApiServer> {
    const { chain, mempool } = modules;
    const app = Fastify({
      loggerInstance: modules.logger.child({ module: 'api' }),
      bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
      disableRequestLogging: true,
    });
    app.setErrorHandler(errorHandler);
    app.setNotFoundHandler((request) => {
      throw new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${request.url}`);
    });
    app.addHook('onSend', async (request, reply) => {
      void reply.header('x-request-id', String(request.id));
    });

    app.get('/metrics', async (_request, reply) => {
      void reply.header('content-type', modules.metricsRegistry.contentType);
      return modules.metricsRegistry.metrics();
    });

    app.get('/api/v1/chain/tip', async () => {
      const { height, hash, header } = chain.tip;
      return {
        height,
        hash: toHex(hash),
        time: header.time,
        utxoRoot: toHex(header.utxoRoot),
        chainId: chain.genesis.chainId,
      };
    });

    app.post<{ Body: { hex: string } }>(
      '/api/v1/txs',
      {
        schema: {
          body: {
            type: 'object',
            required: ['hex'],
            additionalProperties: false,
            properties: {
              hex: { type: 'string', minLength: 2, maxLength: 2 * chain.params.maxTxBytes },
            },
          },
        },
      },
      async (request, reply) => {
        const tx = Transaction.decode(fromHex(request.body.hex));
        const result = await mempool.add(tx);
        void reply.status(202);
        return { txid: toHex(tx.txid), status: result.status };
      },
    );

    app.get<{ Params: { txid: string } }>(
      '/api/v1/txs/:txid',
      { schema: { params: { type: 'object', required: ['txid'], properties: { txid: hash32 } } } },
      async (request) => {
        const txid = fromHex(request.params.txid, 32);
        if (mempool.has(txid)) return { txid: request.params.txid, status: 'mempool' };
        const location = await chain.getTxLocation(txid);
        if (location === undefined) return { txid: request.params.txid, status: 'unknown' };
        return {
          txid: request.params.txid,
          status: 'committed',
          height: location.height,
          index: location.index,
        };
      },
    );

    app.get<{ Params: { txid: string; index: number } }>(
      '/api/v1/coins/:txid/:index',
      {
        schema: {
          params: {
            type: 'object',
            required: ['txid', 'index'],
            properties: {
              txid: hash32,
              index: { type: 'integer', minimum: 0, maximum: 0xffffffff },
            },
          },
        },
      },
      async (request) => {
        const outpoint = { txid: fromHex(request.params.txid, 32), index: request.params.index };
        const [coin] = await chain.getCoins([outpoint]);
        if (coin === undefined)
          throw new ApiError(404, 'NOT_FOUND', 'no unspent coin at this outpoint');
        return {
          amount: coin.amount.toString(),
          height: coin.height,
          coinbase: coin.coinbase,
          lock: { type: coin.lock.type, hash: toHex(coin.lock.hash) },
          spentInMempool: mempool.spenderOf(outpoint) !== undefined,
        };
      },
    );
    return new ApiServer(opts, app as unknown as FastifyInstance);
  }

  /** Starts listening; returns the bound address (port 0 picks a free one). */
  async listen(): Promise<string> {
    return this.app.listen({ host: this.opts.host, port: this.opts.port });
  }

  get fastify(): FastifyInstance {
    return this.app;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
