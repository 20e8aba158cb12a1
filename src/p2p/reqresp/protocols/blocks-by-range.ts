import { DecodeError, decodeExact, Writer } from '../../../encoding/index.ts';
import {
  type BlockWithCommit,
  checkSize,
  decodeBlockWithCommit,
  encodeBlockWithCommit,
  MAX_BLOCK_MESSAGE_BYTES,
} from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import { type RequestHandler, RequestRefused } from './context.ts';
import { MAX_BLOCKS_PER_REQUEST } from './limits.ts';

export interface BlocksByRangeRequest {
  readonly startHeight: number;
  /** 1 .. MAX_BLOCKS_PER_REQUEST */
  readonly count: number;
}

const REQUEST_BYTES = 8;

/** Request: u32 startHeight, u32 count. Response: up to count block + commit items, in height order. */
export const blocksByRangeProtocol: ProtocolDescriptor<BlocksByRangeRequest, BlockWithCommit> = {
  name: 'blocks_by_range',
  protocolId: '/utxod/blocks_by_range/1',
  maxRequestBytes: REQUEST_BYTES,
  maxItemBytes: MAX_BLOCK_MESSAGE_BYTES,
  maxResponseItems: MAX_BLOCKS_PER_REQUEST,
  timeoutMs: 30_000,
  // Requests are cheap to refuse; what is served is bounded in bytes (64 MiB per 10 s).
  quota: { requests: 500, perMs: 10_000 },
  byteQuota: { requests: 64 * 1024 * 1024, perMs: 10_000 },
  encodeRequest: (req) => new Writer(REQUEST_BYTES).u32(req.startHeight).u32(req.count).finish(),
  decodeRequest: (bytes) => {
    checkSize(bytes, REQUEST_BYTES, 'blocks_by_range request');
    return decodeExact(bytes, 'blocks_by_range request', (r) => {
      const startHeight = r.u32('startHeight');
      const count = r.u32('count');
      if (count < 1 || count > MAX_BLOCKS_PER_REQUEST) {
        throw new DecodeError('out-of-range', r.what, { field: 'count', value: count });
      }
      return { startHeight, count };
    });
  },
  encodeItem: encodeBlockWithCommit,
  decodeItem: decodeBlockWithCommit,
};

export const handleBlocksByRange: RequestHandler<BlocksByRangeRequest, BlockWithCommit> =
  async function* (request, _peerId, ctx) {
    const earliest = (await ctx.chain.earliestHeight?.()) ?? 0;
    if (request.startHeight < earliest && request.startHeight <= ctx.chain.tipHeight)
      throw new RequestRefused(`pruned: this node's chain starts at height ${earliest}`);
    const last = Math.min(request.startHeight + request.count - 1, ctx.chain.tipHeight);
    for (let height = request.startHeight; height <= last; height++) {
      const block = await ctx.chain.getBlockAt(height);
      const commit = await ctx.chain.getCommitAt(height);
      if (block === undefined || commit === undefined) return;
      yield { block, commit };
    }
  };
