/**
 * The trust rule of a snapshot (docs/protocol.md, "Snapshots"). Nothing in a
 * manifest is believed because a peer or a file says so:
 *
 * - the manifest is for our chain (chain id hash);
 * - its block is the one it names, at the height it names, and the block's
 *   header carries the roots that the chunks must hash to (rebuild.ts);
 * - the header is final: the commit certificate for exactly that block has
 *   precommits of more than 2/3 of the power of the set in the header's
 *   `validatorSetHash`, every signature verified;
 * - that validator set is established by the node itself: either it is the
 *   genesis set (the set never changes without staking hand-offs, so the
 *   genesis file pins it), or the operator gave a trusted height and block
 *   hash (`--trusted-height/--trusted-hash`, like CometBFT's light-client
 *   trust options) and the snapshot is exactly that block.
 */
import { type BatchVerifier, type ValidatorSet, VerificationError } from '../consensus/index.ts';
import { bytesEqual, toHex } from '../util/index.ts';
import { SnapshotError } from './errors.ts';
import type { Manifest } from './format.ts';

export interface TrustAnchor {
  readonly height: number;
  readonly hash: Uint8Array;
}

export interface TrustContext {
  readonly chainIdHash: Uint8Array;
  /** The set the genesis file names. */
  readonly genesisValidators: ValidatorSet;
  /** Operator-given height and hash; null to trust only the genesis set. */
  readonly trusted: TrustAnchor | null;
  readonly verifier: BatchVerifier;
}

/** Throws SnapshotError unless the manifest's block is final on our chain under a set we trust. */
export async function verifyManifest(m: Manifest, ctx: TrustContext): Promise<void> {
  if (!bytesEqual(m.chainIdHash, ctx.chainIdHash)) {
    throw new SnapshotError('SNAPSHOT_WRONG_CHAIN', 'the snapshot is of another chain', {
      chainIdHash: toHex(m.chainIdHash),
    });
  }
  const { block, commit } = m;
  if (block.height !== m.height || !bytesEqual(block.hash, m.blockHash)) {
    throw new SnapshotError(
      'SNAPSHOT_BAD_CONTENT',
      `the manifest names block ${m.height} ${toHex(m.blockHash)} but carries ${block.height} ${toHex(block.hash)}`,
    );
  }
  if (m.height === 0) throw new SnapshotError('SNAPSHOT_BAD_CONTENT', 'a snapshot of genesis');
  const header = block.header;
  const signers = ctx.genesisValidators;
  if (ctx.trusted !== null) {
    if (ctx.trusted.height !== m.height || !bytesEqual(ctx.trusted.hash, m.blockHash)) {
      throw new SnapshotError(
        'SNAPSHOT_TRUST_MISMATCH',
        `snapshot ${m.height} ${toHex(m.blockHash)} is not the trusted block ${ctx.trusted.height} ${toHex(ctx.trusted.hash)}`,
      );
    }
  } else if (!bytesEqual(header.validatorSetHash, signers.hash)) {
    throw new SnapshotError(
      'SNAPSHOT_UNTRUSTED',
      `block ${m.height} is signed by a validator set other than the genesis set: give --trusted-height and --trusted-hash`,
    );
  }
  // With a trusted anchor the header (and so its validatorSetHash) is trusted;
  // the set that signed it is the manifest's, once its hash matches.
  const set = ctx.trusted === null ? signers : m.validators;
  if (!bytesEqual(set.hash, header.validatorSetHash)) {
    throw new SnapshotError('SNAPSHOT_NOT_FINAL', 'the carried validator set is not the header’s');
  }
  let jobs: ReturnType<ValidatorSet['commitSignatureJobs']>;
  try {
    jobs = set.commitSignatureJobs(commit, m.height, m.blockHash, ctx.chainIdHash);
  } catch (error) {
    if (error instanceof VerificationError)
      throw new SnapshotError('SNAPSHOT_NOT_FINAL', error.reason, {}, { cause: error });
    throw error;
  }
  const results = await ctx.verifier.verifyBatch(jobs);
  const bad = results.indexOf(false);
  if (bad !== -1)
    throw new SnapshotError('SNAPSHOT_NOT_FINAL', `commit signature ${bad} does not verify`);
  // The set for the next heights: without staking it is the signing set; a
  // snapshot that hands over to another one needs a trusted anchor.
  if (ctx.trusted === null && !bytesEqual(m.validators.hash, signers.hash)) {
    throw new SnapshotError(
      'SNAPSHOT_UNTRUSTED',
      'the snapshot hands over to a validator set other than the genesis set',
    );
  }
}
