import { UtxodError } from '../util/index.ts';

export type DecodeReason =
  | 'truncated'
  | 'trailing-bytes'
  | 'non-minimal-varint'
  | 'too-large'
  | 'out-of-range'
  | 'invalid-value';

/** Untrusted bytes that do not decode to exactly one canonical value. */
export class DecodeError extends UtxodError<'DECODE_ERROR'> {
  readonly reason: DecodeReason;

  constructor(reason: DecodeReason, what: string, details: Record<string, unknown> = {}) {
    super('DECODE_ERROR', `cannot decode ${what}: ${reason}`, { reason, what, ...details });
    this.reason = reason;
  }
}
