import { fromHex, toHex } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import {
  BlockByHashParams,
  BlockByHeightParams,
  BlockQuery,
  BlockResponse,
  ChainInfoResponse,
  HeadersQuery,
  HeadersResponse,
  TipResponse,
} from '../schemas/chain.ts';
import { withErrors } from '../schemas/common.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { blockJson, headerJson, hrpOf } from './json.ts';

export function registerChainRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain } = ctx;
  let cachedTip: { hash: Uint8Array; body: TipResponse } | null = null;

  app.get(
    '/api/v1/chain/tip',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['chain'],
        summary: 'The tip of the chain',
        response: withErrors({ 200: TipResponse }),
      },
    },
    async () => {
      // The most polled route: its answer only changes with the tip.
      const { height, hash, header } = chain.tip;
      if (cachedTip === null || cachedTip.hash !== hash) {
        const body = {
          height,
          hash: toHex(hash),
          time: header.time,
          utxoRoot: toHex(header.utxoRoot),
          chainId: chain.genesis.chainId,
        };
        cachedTip = { hash, body };
      }
      return cachedTip.body;
    },
  );

  app.get(
    '/api/v1/chain/info',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['chain'],
        summary: 'Chain id, genesis, consensus parameters and tip',
        response: withErrors({ 200: ChainInfoResponse }),
      },
    },
    async () => {
      const { params } = chain;
      return {
        chainId: chain.genesis.chainId,
        network: params.network,
        addressPrefix: hrpOf(params),
        genesisHash: toHex(chain.genesisHash),
        genesisTime: chain.genesis.time,
        tip: { height: chain.tip.height, hash: toHex(chain.tip.hash), time: chain.tip.header.time },
        params: {
          coinbaseMaturity: params.coinbaseMaturity,
          initialSubsidy: params.initialSubsidy.toString(),
          halvingInterval: params.halvingInterval,
          maxBlockBytes: params.maxBlockBytes,
          maxTxBytes: params.maxTxBytes,
          maxFutureBlockTimeMs: params.maxFutureBlockTimeMs,
          checkpointInterval: params.checkpointInterval,
        },
      };
    },
  );

  app.get(
    '/api/v1/blocks/height/:height',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['chain'],
        summary: 'Block at a height, with its commit certificate',
        params: BlockByHeightParams,
        querystring: BlockQuery,
        response: withErrors({ 200: BlockResponse }, [404, 410]),
      },
    },
    async (request) => {
      const block = await chain.getBlockAt(request.params.height);
      if (block === undefined && request.params.height <= chain.tipHeight) {
        const earliestHeight = await chain.earliestHeight();
        if (request.params.height < earliestHeight)
          throw new ApiError(
            410,
            'PRUNED',
            `block ${request.params.height} is below the height ${earliestHeight} this node's chain starts at (it began from a snapshot)`,
            { earliestHeight },
          );
      }
      if (block === undefined)
        throw new ApiError(404, 'NOT_FOUND', `no block at height ${request.params.height}`, {
          tipHeight: chain.tipHeight,
        });
      const commit = await chain.getCommitAt(block.height);
      return blockJson(block, commit, request.query.txs, hrpOf(chain.params));
    },
  );

  app.get(
    '/api/v1/blocks/hash/:hash',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['chain'],
        summary: 'Block by hash, with its commit certificate',
        params: BlockByHashParams,
        querystring: BlockQuery,
        response: withErrors({ 200: BlockResponse }, [404]),
      },
    },
    async (request) => {
      const block = await chain.getBlockByHash(fromHex(request.params.hash, 32));
      if (block === undefined) throw new ApiError(404, 'NOT_FOUND', 'no block with this hash');
      const commit = await chain.getCommitAt(block.height);
      return blockJson(block, commit, request.query.txs, hrpOf(chain.params));
    },
  );

  app.get(
    '/api/v1/headers',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['chain'],
        summary: 'Up to 500 consecutive headers starting at `from`',
        querystring: HeadersQuery,
        response: withErrors({ 200: HeadersResponse }, [410]),
      },
    },
    async (request) => {
      const { from, count } = request.query;
      // Below a snapshot-started chain's first block: say so, not an empty list that reads as "no blocks yet".
      const earliestHeight = await chain.earliestHeight();
      if (from < earliestHeight)
        throw new ApiError(
          410,
          'PRUNED',
          `headers from ${from} are below the height ${earliestHeight} this node's chain starts at (it began from a snapshot)`,
          { earliestHeight },
        );
      const last = Math.min(chain.tipHeight, from + count - 1);
      const headers = [];
      for (let height = from; height <= last; height++) {
        const block = await chain.getBlockAt(height);
        if (block === undefined) break;
        headers.push(headerJson(block.header));
      }
      return { headers };
    },
  );
}
