import type { Lock } from '../../primitives/index.ts';
import { addressToLock, outpointKey } from '../../primitives/index.ts';
import { bytesEqual, fromHex, toHex } from '../../util/index.ts';
import { ApiError } from '../errors.ts';
import {
  AddressParams,
  BalanceResponse,
  HistoryQuery,
  HistoryResponse,
  UtxosQuery,
  UtxosResponse,
} from '../schemas/addresses.ts';
import { withErrors } from '../schemas/common.ts';
import type { ApiApp, ApiContext } from './context.ts';
import { hrpOf } from './json.ts';

/** Beyond this many coins a balance is refused rather than scanned on every request. */
const MAX_BALANCE_COINS = 100_000;
const BALANCE_PAGE = 1000;
/** All entries of one height are returned together, even past `limit`, up to this. */
const MAX_HISTORY_SAME_HEIGHT = 20_000;

export function registerAddressRoutes(app: ApiApp, ctx: ApiContext): void {
  const { chain, mempool } = ctx;
  const lockOf = (address: string): Lock => addressToLock(address, hrpOf(chain.params));

  app.get(
    '/api/v1/addresses/:address/balance',
    {
      config: { auth: 'reader' },
      schema: {
        tags: ['addresses'],
        summary: 'Confirmed balance and pending mempool changes of an address',
        params: AddressParams,
        response: withErrors({ 200: BalanceResponse }, [422]),
      },
    },
    async (request) => {
      const lock = lockOf(request.params.address);
      let confirmed = 0n;
      let pendingOut = 0n;
      let count = 0;
      let after: Uint8Array | undefined;
      for (;;) {
        const page = await chain.addressCoins(lock.hash, {
          limit: BALANCE_PAGE,
          ...(after === undefined ? {} : { after }),
        });
        for (const { outpoint, coin } of page) {
          confirmed += coin.amount;
          if (mempool.spenderOf(outpoint) !== undefined) pendingOut += coin.amount;
        }
        count += page.length;
        if (count > MAX_BALANCE_COINS)
          throw new ApiError(422, 'RESULT_TOO_LARGE', 'address has too many coins for a balance', {
            limit: MAX_BALANCE_COINS,
          });
        const last = page.at(-1);
        if (page.length < BALANCE_PAGE || last === undefined) break;
        after = outpointKey(last.outpoint);
      }
      // A scan of the pool: cheap at its bounded size, and the only place unconfirmed outputs live.
      let pendingIn = 0n;
      for (const entry of mempool.entries())
        for (const output of entry.tx.outputs)
          if (bytesEqual(output.lock.hash, lock.hash)) pendingIn += output.amount;
      return {
        address: request.params.address,
        confirmed: confirmed.toString(),
        confirmedCoins: count,
        pendingOut: pendingOut.toString(),
        pendingIn: pendingIn.toString(),
        available: (confirmed - pendingOut + pendingIn).toString(),
      };
    },
  );

  app.get(
    '/api/v1/addresses/:address/utxos',
    {
      config: { auth: 'reader' },
      schema: {
        tags: ['addresses'],
        summary: 'Unspent coins of an address, in outpoint order, paged',
        params: AddressParams,
        querystring: UtxosQuery,
        response: withErrors({ 200: UtxosResponse }),
      },
    },
    async (request) => {
      const lock = lockOf(request.params.address);
      const { limit, after } = request.query;
      let afterKey: Uint8Array | undefined;
      if (after !== undefined) {
        const [txid, index] = after.split(':') as [string, string];
        const n = Number(index);
        if (n > 0xffffffff)
          throw new ApiError(400, 'VALIDATION_ERROR', 'cursor index out of range', {
            issues: ['/after index out of range'],
          });
        afterKey = outpointKey({ txid: fromHex(txid, 32), index: n });
      }
      const page = await chain.addressCoins(lock.hash, {
        limit,
        ...(afterKey === undefined ? {} : { after: afterKey }),
      });
      const items = page.map(({ outpoint, coin }) => ({
        txid: toHex(outpoint.txid),
        index: outpoint.index,
        amount: coin.amount.toString(),
        height: coin.height,
        coinbase: coin.coinbase,
        spentInMempool: mempool.spenderOf(outpoint) !== undefined,
      }));
      const last = items.at(-1);
      return {
        address: request.params.address,
        items,
        next: items.length === limit && last !== undefined ? `${last.txid}:${last.index}` : null,
      };
    },
  );

  app.get(
    '/api/v1/addresses/:address/txs',
    {
      config: { auth: 'reader' },
      schema: {
        tags: ['addresses'],
        summary: 'Committed transactions that paid or spent from an address, newest first, paged',
        description:
          'Pages end on a height boundary: all transactions of one block are on the same page.',
        params: AddressParams,
        querystring: HistoryQuery,
        response: withErrors({ 200: HistoryResponse }),
      },
    },
    async (request) => {
      const lock = lockOf(request.params.address);
      const { limit, before } = request.query;
      const rows = await chain.addressHistory(lock.hash, {
        limit: limit + 1,
        ...(before === undefined ? {} : { beforeHeight: before }),
      });
      let items = rows;
      let next: number | null = null;
      const boundary = rows[limit];
      if (boundary !== undefined) {
        // Cut at a height boundary: `before` cannot resume inside one height.
        items = rows.filter((r) => r.height > boundary.height);
        next = boundary.height + 1;
        if (items.length === 0) {
          const all = await chain.addressHistory(lock.hash, {
            limit: MAX_HISTORY_SAME_HEIGHT,
            beforeHeight: boundary.height + 1,
          });
          items = all.filter((r) => r.height === boundary.height);
          next = boundary.height > 0 ? boundary.height : null;
        }
      }
      return {
        address: request.params.address,
        items: items.map((r) => ({ txid: toHex(r.txid), height: r.height, position: r.position })),
        next,
      };
    },
  );
}
