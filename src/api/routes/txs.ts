import { lockToAddress, Transaction } from '../../primitives/index.ts';
import { fromHex, toHex } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import { withErrors } from '../schemas/common.ts';
import {
  CoinParams,
  CoinResponse,
  SubmitTxBody,
  SubmitTxResponse,
  TxidParams,
  TxQuery,
  TxStatusResponse,
} from '../schemas/txs.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { hrpOf, txJson } from './json.ts';

export function registerTxRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain, mempool } = ctx;

  app.post(
    '/api/v1/txs',
    {
      config: { auth: 'public', rateLimitClass: 'submit' },
      schema: {
        tags: ['transactions'],
        summary: 'Submit a signed transaction (hex) to the mempool',
        description:
          'A rejection names the rule it broke: a consensus code (TX_*) or a mempool policy code (MEMPOOL_*), with the reason in `message`.',
        body: SubmitTxBody,
        response: withErrors({ 202: SubmitTxResponse }, [409, 413, 415, 422, 503]),
      },
    },
    async (request, reply) => {
      const tx = Transaction.decode(fromHex(request.body.hex));
      // The orphan pool bounds what each client holds: a token's subject, else the address.
      const source =
        request.auth === null || request.auth === undefined
          ? `api:ip:${request.ip}`
          : `api:sub:${request.auth.subject}`;
      const result = await mempool.add(tx, 'local', source);
      void reply.status(202);
      if (result.status === 'orphan') {
        return {
          txid: toHex(tx.txid),
          status: 'orphan' as const,
          missingParents: result.missingParents.map(toHex),
        };
      }
      return { txid: toHex(tx.txid), status: 'accepted' as const, fee: result.fee.toString() };
    },
  );

  app.get(
    '/api/v1/txs/:txid',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['transactions'],
        summary: 'A transaction with its status: mempool, committed at a height, or unknown',
        params: TxidParams,
        querystring: TxQuery,
        response: withErrors({ 200: TxStatusResponse }),
      },
    },
    async (request) => {
      const txid = fromHex(request.params.txid, 32);
      const hrp = hrpOf(chain.params);
      const entry = mempool.get(txid);
      if (entry !== undefined) {
        return {
          txid: request.params.txid,
          status: 'mempool' as const,
          fee: entry.fee.toString(),
          feeRate: entry.feeRate.toString(),
          time: entry.time,
          tx: txJson(entry.tx, hrp, request.query.hex),
        };
      }
      const found = await chain.getTransaction(txid);
      if (found === undefined) return { txid: request.params.txid, status: 'unknown' as const };
      const { tx, location } = found;
      const blockHash = await chain.getHashAt(location.height);
      return {
        txid: request.params.txid,
        status: 'committed' as const,
        height: location.height,
        index: location.index,
        ...(blockHash === undefined ? {} : { blockHash: toHex(blockHash) }),
        confirmations: chain.tipHeight - location.height + 1,
        tx: txJson(tx, hrp, request.query.hex),
      };
    },
  );

  app.get(
    '/api/v1/coins/:txid/:index',
    {
      config: { auth: 'public' },
      schema: {
        tags: ['transactions'],
        summary: 'An unspent coin by outpoint',
        params: CoinParams,
        response: withErrors({ 200: CoinResponse }, [404]),
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
        address: lockToAddress(coin.lock, hrpOf(chain.params)),
        spentInMempool: mempool.spenderOf(outpoint) !== undefined,
      };
    },
  );
}
