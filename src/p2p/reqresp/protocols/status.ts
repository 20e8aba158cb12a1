import {
  decodeStatus,
  encodeStatus,
  STATUS_MAX_BYTES,
  type StatusMessage,
} from '../../messages.ts';
import type { ProtocolDescriptor } from '../types.ts';
import type { RequestHandler } from './context.ts';

/** Request: the requester's status. Response: one item, the responder's status. */
export const statusProtocol: ProtocolDescriptor<StatusMessage, StatusMessage> = {
  name: 'status',
  protocolId: '/utxod/status/2',
  maxRequestBytes: STATUS_MAX_BYTES,
  maxItemBytes: STATUS_MAX_BYTES,
  maxResponseItems: 1,
  timeoutMs: 5_000,
  quota: { requests: 30, perMs: 15_000 },
  encodeRequest: encodeStatus,
  decodeRequest: decodeStatus,
  encodeItem: encodeStatus,
  decodeItem: decodeStatus,
};

export const handleStatus: RequestHandler<StatusMessage, StatusMessage> = async function* (
  request,
  peerId,
  ctx,
) {
  ctx.onRemoteStatus(peerId, request);
  yield ctx.localStatus();
};
