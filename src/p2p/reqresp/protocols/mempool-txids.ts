import { DecodeError, decodeExact, Writer } from '../../../encoding/index.ts';
import { HASH_SIZE } from '../../../primitives/index.ts';
import { checkSize } from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import type { RequestHandler } from './context.ts';
import { MAX_MEMPOOL_TXIDS, TXIDS_PER_CHUNK } from './limits.ts';

const MAX_CHUNK_BYTES = 3 + TXIDS_PER_CHUNK * HASH_SIZE;

/**
 * Request: empty. Response: the txids in the responder's mempool, highest
 * fee rate first as it iterates, in chunks of `varint n (1..1024), n x bytes[32]`,
 * at most MAX_MEMPOOL_TXIDS in all.
 */
export const mempoolTxidsProtocol: ProtocolDescriptor<null, Uint8Array[]> = {
  name: 'mempool_txids',
  protocolId: '/utxod/mempool_txids/1',
  maxRequestBytes: 0,
  maxItemBytes: MAX_CHUNK_BYTES,
  maxResponseItems: MAX_MEMPOOL_TXIDS / TXIDS_PER_CHUNK,
  timeoutMs: 15_000,
  quota: { requests: 5, perMs: 60_000 },
  encodeRequest: () => new Uint8Array(0),
  decodeRequest: (bytes) => {
    checkSize(bytes, 0, 'mempool_txids request');
    return null;
  },
  encodeItem: (txids) => {
    const w = new Writer(3 + txids.length * HASH_SIZE).varint(txids.length);
    for (const txid of txids) w.bytes(txid);
    return w.finish();
  },
  decodeItem: (bytes) => {
    checkSize(bytes, MAX_CHUNK_BYTES, 'mempool_txids chunk');
    return decodeExact(bytes, 'mempool_txids chunk', (r) => {
      const n = r.varint(TXIDS_PER_CHUNK, 'count');
      if (n === 0) throw new DecodeError('out-of-range', r.what, { field: 'count', value: 0 });
      const txids: Uint8Array[] = [];
      for (let i = 0; i < n; i++) txids.push(r.bytes(HASH_SIZE, 'txid'));
      return txids;
    });
  },
};

export const handleMempoolTxids: RequestHandler<null, Uint8Array[]> = async function* (
  _request,
  _peerId,
  ctx,
) {
  let chunk: Uint8Array[] = [];
  let total = 0;
  for (const entry of ctx.mempool.entries()) {
    if (total++ >= MAX_MEMPOOL_TXIDS) break;
    chunk.push(entry.txid);
    if (chunk.length === TXIDS_PER_CHUNK) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk;
};
