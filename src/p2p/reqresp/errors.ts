import { UtxodError } from '../../util/index.ts';

export type ReqRespErrorCode =
  /** Could not open a stream to the peer (not connected, protocol unsupported, gated). */
  | 'REQRESP_DIAL_FAILED'
  /** The whole request did not finish within its deadline. */
  | 'REQRESP_TIMEOUT'
  /** The peer sent bytes that do not decode, are too large, or are not what was asked. */
  | 'REQRESP_INVALID_RESPONSE'
  /** The peer answered with an error frame (rate limited, invalid request, internal). */
  | 'REQRESP_SERVER_ERROR'
  /** The request itself is out of bounds (too many items asked). */
  | 'REQRESP_INVALID_REQUEST'
  /** The stream broke before the response ended. */
  | 'REQRESP_STREAM_ERROR'
  | 'REQRESP_ABORTED';

export class ReqRespError extends UtxodError<ReqRespErrorCode> {
  readonly peerId: string;
  readonly protocol: string;

  constructor(
    code: ReqRespErrorCode,
    message: string,
    context: { peerId: string; protocol: string },
    options?: ErrorOptions,
  ) {
    super(code, message, context, options);
    this.peerId = context.peerId;
    this.protocol = context.protocol;
  }
}
