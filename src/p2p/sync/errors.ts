import { UtxodError } from '../../util/errors.ts';

export type SyncErrorCode =
  /** A peer answered a block range with something other than the requested heights. */
  | 'SYNC_PROTOCOL_VIOLATION'
  /** A request got no answer in time. */
  | 'SYNC_TIMEOUT'
  /** A request failed on the way (stream reset, dial failure, server busy). */
  | 'SYNC_REQUEST_FAILED'
  /** The syncer was stopped. */
  | 'SYNC_STOPPED';

/** Penalties sync reports to peer scoring (0-100, 100 bans). */
export const SyncPenalty = {
  /** Provably wrong data: wrong heights, a block that does not match its certificate. */
  violation: 100,
  /** A range request that timed out. */
  timeout: 5,
  /** A request that failed (stream reset, decode error in transport). */
  requestFailed: 2,
  /** No blocks for a range the peer's own status said it had. */
  emptyRange: 10,
} as const;

export class SyncError extends UtxodError<SyncErrorCode> {
  /** What the peer that caused it loses (0 when no peer is at fault). */
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
