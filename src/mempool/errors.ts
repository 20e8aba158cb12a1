import { UtxodError } from '../util/index.ts';

/**
 * Policy rejections: the transaction may be perfectly valid by consensus, this
 * node just declines to keep or relay it (too cheap, too big, pool full...).
 * Honest peers run into most of these all the time, so the penalty is 0 except
 * where no honest node ever sends such a thing. Consensus violations are not
 * here: they surface as the VerificationError that consensus/ raised.
 */
export const MempoolCodes = {
  /** Same txid already in the pool, the orphan pool, or confirmed. */
  MEMPOOL_ALREADY_KNOWN: 0,
  /** A coinbase is only valid as a block's first transaction; nobody honest relays one. */
  MEMPOOL_COINBASE: 100,
  MEMPOOL_FEE_TOO_LOW: 0,
  /** Accepting it would push the pool over maxBytes and it pays the least. */
  MEMPOOL_FULL: 0,
  MEMPOOL_REPLACEMENT_REJECTED: 0,
  MEMPOOL_TOO_MANY_REPLACEMENTS: 0,
  MEMPOOL_NONSTANDARD: 0,
  MEMPOOL_TOO_MANY_ANCESTORS: 0,
  MEMPOOL_TOO_MANY_DESCENDANTS: 0,
  /** Missing inputs, but too large to hold in the orphan pool. */
  MEMPOOL_ORPHAN_TOO_LARGE: 0,
  /** The operator already has a staking transaction waiting in the pool. */
  MEMPOOL_STAKING_PENDING: 0,
  /**
   * The contract call (or deploy's init) fails on the tip's state: valid in a
   * block (it would pay its gas for nothing), declined here. A peer may have
   * seen another state: no penalty.
   */
  MEMPOOL_CONTRACT_FAILED: 0,
} as const;

export type MempoolCode = keyof typeof MempoolCodes;

export class MempoolError extends UtxodError<MempoolCode> {
  /** Short human explanation of what exactly was wrong. */
  readonly reason: string;
  /** Score a peer loses for sending this (see MempoolCodes). */
  readonly penalty: number;

  constructor(code: MempoolCode, reason: string, details: Record<string, unknown> = {}) {
    super(code, `${code}: ${reason}`, details);
    this.reason = reason;
    this.penalty = MempoolCodes[code];
  }
}

export type SnapshotFault =
  | 'truncated'
  | 'bad-magic'
  | 'bad-version'
  | 'bad-checksum'
  | 'bad-entry'
  | 'trailing-bytes';

/** A mempool snapshot file that is not exactly what `encodeSnapshot` writes. */
export class MempoolSnapshotError extends UtxodError<'MEMPOOL_SNAPSHOT_INVALID'> {
  readonly fault: SnapshotFault;

  constructor(fault: SnapshotFault, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(
      'MEMPOOL_SNAPSHOT_INVALID',
      `invalid mempool snapshot: ${fault}`,
      { fault, ...details },
      options,
    );
    this.fault = fault;
  }
}

export class MempoolOptionsError extends UtxodError<'MEMPOOL_INVALID_OPTIONS'> {
  constructor(option: string, value: unknown) {
    super('MEMPOOL_INVALID_OPTIONS', `invalid mempool option ${option}: ${String(value)}`, {
      option,
    });
  }
}
