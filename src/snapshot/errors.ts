import { UtxodError } from '../util/index.ts';

/**
 * Why a snapshot was refused, with the score a peer loses for serving it
 * (0-100, as in consensus/errors.ts): a wrong chunk or a root mismatch is
 * provable misbehaviour; a snapshot of another chain or one we cannot
 * establish trust in may be an honest peer on another network or ahead of us.
 */
export const SnapshotCodes = {
  /** Bytes that are not a well-formed manifest, chunk or snapshot file. */
  SNAPSHOT_MALFORMED: 100,
  /** A manifest of another chain (other genesis / chain id). */
  SNAPSHOT_WRONG_CHAIN: 20,
  /** A format version this node cannot read. */
  SNAPSHOT_UNSUPPORTED_VERSION: 0,
  /** A chunk whose hash is not the manifest's. */
  SNAPSHOT_CHUNK_HASH: 100,
  /** Records out of order, duplicated, or counts that disagree with the manifest. */
  SNAPSHOT_BAD_CONTENT: 100,
  /** The coins do not hash (MuHash) to the header's utxoRoot. */
  SNAPSHOT_UTXO_ROOT: 100,
  /** The state entries do not hash to the header's stateRoot. */
  SNAPSHOT_STATE_ROOT: 100,
  /** The header is not final: its commit certificate does not verify. */
  SNAPSHOT_NOT_FINAL: 100,
  /** The validator set cannot be established (not the genesis set and no trusted anchor). */
  SNAPSHOT_UNTRUSTED: 0,
  /** The snapshot is not the operator's trusted height and hash. */
  SNAPSHOT_TRUST_MISMATCH: 20,
  /** Local problem: the target is not empty, the snapshot is missing, I/O. */
  SNAPSHOT_LOCAL: 0,
} as const;

export type SnapshotCode = keyof typeof SnapshotCodes;

export class SnapshotError extends UtxodError<SnapshotCode> {
  readonly reason: string;
  /** Score a peer loses for serving this (see SnapshotCodes). */
  readonly penalty: number;

  constructor(
    code: SnapshotCode,
    reason: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(code, `${code}: ${reason}`, details, options);
    this.reason = reason;
    this.penalty = SnapshotCodes[code];
  }
}
