import { decodeExact } from '../../../encoding/index.ts';
import { HASH_SIZE } from '../../../primitives/index.ts';
import { bytesEqual } from '../../../util/index.ts';
import {
  type BlockWithCommit,
  checkSize,
  decodeBlockWithCommit,
  encodeBlockWithCommit,
  MAX_BLOCK_MESSAGE_BYTES,
} from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import type { RequestHandler } from './context.ts';

/** Request: bytes[32] block hash. Response: zero or one block + commit item. */
export const blockByHashProtocol: ProtocolDescriptor<Uint8Array, BlockWithCommit> = {
  name: 'block_by_hash',
  protocolId: '/utxod/block_by_hash/1',
  maxRequestBytes: HASH_SIZE,
  maxItemBytes: MAX_BLOCK_MESSAGE_BYTES,
  maxResponseItems: 1,
  timeoutMs: 15_000,
  quota: { requests: 50, perMs: 10_000 },
  byteQuota: { requests: 32 * 1024 * 1024, perMs: 10_000 },
  encodeRequest: (hash) => hash,
  decodeRequest: (bytes) => {
    checkSize(bytes, HASH_SIZE, 'block_by_hash request');
    return decodeExact(bytes, 'block_by_hash request', (r) => r.bytes(HASH_SIZE, 'hash'));
  },
  encodeItem: encodeBlockWithCommit,
  decodeItem: decodeBlockWithCommit,
};

export const handleBlockByHash: RequestHandler<Uint8Array, BlockWithCommit> = async function* (
  hash,
  _peerId,
  ctx,
) {
  const block = await ctx.chain.getBlockByHash(hash);
  if (block === undefined) return;
  // Only blocks of the main chain have a certificate stored at their height.
  const mainHash = await ctx.chain.getHashAt(block.height);
  if (mainHash === undefined || !bytesEqual(mainHash, hash)) return;
  const commit = await ctx.chain.getCommitAt(block.height);
  if (commit === undefined) return;
  yield { block, commit };
};
