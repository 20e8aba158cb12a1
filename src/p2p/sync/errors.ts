import { UtxodError } from '../../util/index.ts';

export type SyncErrorCode =
  /** A peer answered a block range with something other than the requested heights. */
  | 'SYNC_PROTOCOL_VIOLATION'
  /** A block of a served range is not at the height its place in the range requires. */
  | 'SYNC_WRONG_HEIGHT'
  /** More blocks than the range asked for. */
  | 'SYNC_TOO_MANY_BLOCKS'
  /** A peer could not back the tip it claimed: no blocks above our tip, or no answer to a probe. */
  | 'SYNC_UNBACKED_CLAIM'
  /** A request got no answer in time. */
  | 'SYNC_TIMEOUT'
  /** A request failed on the way (stream reset, dial failure, server busy). */
  | 'SYNC_REQUEST_FAILED'
  /** The syncer was stopped. */
  | 'SYNC_STOPPED';

export class SyncError extends UtxodError<SyncErrorCode> {
  /** What the peer that caused it loses (0 when no peer is at fault; `Penalty` in p2p/scoring.ts). */
  readonly penalty: number;

  constructor(
    code: SyncErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    penalty = 0,
  ) {
    super(code, message, details);
    this.penalty = penalty;
  }
}
