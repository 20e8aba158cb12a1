import { decodeExact, Writer } from '../../../encoding/index.ts';
import { HASH_SIZE, MAX_TX_BYTES, Transaction } from '../../../primitives/index.ts';
import { checkSize } from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import type { RequestHandler } from './context.ts';
import { MAX_TXIDS_PER_REQUEST } from './limits.ts';

const MAX_REQUEST_BYTES = 3 + MAX_TXIDS_PER_REQUEST * HASH_SIZE;

/** Request: varint n (<= 256), n x bytes[32] txid. Response: the mempool transactions found, in request order. */
export const transactionsProtocol: ProtocolDescriptor<Uint8Array[], Transaction> = {
  name: 'transactions',
  protocolId: '/utxod/transactions/1',
  maxRequestBytes: MAX_REQUEST_BYTES,
  maxItemBytes: MAX_TX_BYTES,
  maxResponseItems: MAX_TXIDS_PER_REQUEST,
  timeoutMs: 15_000,
  quota: { requests: 50, perMs: 10_000 },
  encodeRequest: (txids) => {
    const w = new Writer(3 + txids.length * HASH_SIZE).varint(txids.length);
    for (const txid of txids) w.bytes(txid);
    return w.finish();
  },
  decodeRequest: (bytes) => {
    checkSize(bytes, MAX_REQUEST_BYTES, 'transactions request');
    return decodeExact(bytes, 'transactions request', (r) => {
      const n = r.varint(MAX_TXIDS_PER_REQUEST, 'count');
      const txids: Uint8Array[] = [];
      for (let i = 0; i < n; i++) txids.push(r.bytes(HASH_SIZE, 'txid'));
      return txids;
    });
  },
  encodeItem: (tx) => tx.encode(),
  decodeItem: (bytes) => Transaction.decode(bytes),
};

export const handleTransactions: RequestHandler<Uint8Array[], Transaction> = async function* (
  txids,
  _peerId,
  ctx,
) {
  for (const txid of txids) {
    const entry = ctx.mempool.get(txid);
    if (entry !== undefined) yield entry.tx;
  }
};
