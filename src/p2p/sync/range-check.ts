/**
 * Cheap checks of a downloaded block range before it reaches the importer:
 * exactly the requested heights in order, sizes within bounds, headers
 * linked by prevHash, each block's stateless rules and Merkle root, and
 * every commit certificate (the served one and the block's lastCommit)
 * structurally valid for its block and signed by more than 2/3 of the
 * validators. The certificate signatures of the whole range go to the
 * parallel verifier in one batch, through the signature cache, so the
 * importer finds them verified. A bad range is rejected as a whole before
 * any of it is imported, and the fault names the block and the penalty.
 */
import { checkBlockSanity } from '../../chain/block-verifier.ts';
import { VerificationError } from '../../consensus/errors.ts';
import type { ConsensusParams } from '../../consensus/params.ts';
import type { LocatedSignatureJob } from '../../consensus/signatures.ts';
import type { ValidatorSet } from '../../consensus/validator-set.ts';
import { bytesEqual, bytesKey } from '../../util/bytes.ts';
import { SyncPenalty } from './errors.ts';
import type { BlockWithCommit } from './peer-source.ts';

export interface RangeCheckContext {
  readonly params: ConsensusParams;
  readonly validators: ValidatorSet;
  readonly chainIdHash: Uint8Array;
}

/** Checks signatures in a batch (the node's SignatureChecker: cache, then the parallel verifier). */
export interface RangeSignatureChecker {
  check(jobs: readonly LocatedSignatureJob[]): Promise<void>;
}

export type RangeCheckResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Index in the served list of the first offending block (or the list's length for a count fault). */
      readonly index: number;
      readonly code: string;
      readonly reason: string;
      readonly penalty: number;
    };

const fault = (index: number, code: string, reason: string, penalty: number): RangeCheckResult => ({
  ok: false,
  index,
  code,
  reason,
  penalty,
});

/**
 * The synchronous part: shape, heights, sizes, linkage, block sanity and
 * certificate structure. On success returns the certificate signature jobs
 * (deduplicated), each located by the index of its block in `items`.
 */
export function checkRangeShape(
  items: readonly BlockWithCommit[],
  start: number,
  count: number,
  ctx: RangeCheckContext,
  prevHash: Uint8Array | null,
): { result: RangeCheckResult; jobs: LocatedSignatureJob[] } {
  const jobs: LocatedSignatureJob[] = [];
  const fail = (
    index: number,
    code: string,
    reason: string,
    penalty: number = SyncPenalty.violation,
  ) => ({
    result: fault(index, code, reason, penalty),
    jobs: [],
  });
  if (items.length > count) {
    return fail(count, 'SYNC_TOO_MANY_BLOCKS', `${items.length} blocks for a range of ${count}`);
  }
  const seen = new Set<string>();
  const addJobs = (
    index: number,
    blockHash: Uint8Array,
    located: readonly LocatedSignatureJob[],
  ) => {
    for (const job of located) {
      const key = bytesKey(job.sig) + bytesKey(job.msg) + bytesKey(job.pub);
      if (seen.has(key)) continue;
      seen.add(key);
      jobs.push({ ...job, txid: blockHash, inputIndex: index });
    }
  };
  let previous: Uint8Array | null = prevHash;
  for (let i = 0; i < items.length; i++) {
    const { block, commit } = items[i]!;
    const height = start + i;
    if (block.height !== height) {
      return fail(
        i,
        'SYNC_WRONG_HEIGHT',
        `block ${i} of the range has height ${block.height}, not ${height}`,
      );
    }
    if (block.size > ctx.params.maxBlockBytes) {
      return fail(i, 'BLOCK_TOO_LARGE', `block ${height} is ${block.size} bytes`);
    }
    if (previous !== null && !bytesEqual(block.header.prevHash, previous)) {
      return fail(i, 'BLOCK_BAD_PREV', `block ${height} does not link to block ${height - 1}`);
    }
    if (!bytesEqual(block.header.lastCommitHash, block.lastCommit.hash)) {
      return fail(i, 'BLOCK_BAD_LAST_COMMIT', `block ${height}: lastCommitHash mismatch`);
    }
    try {
      checkBlockSanity(block, ctx.params);
    } catch (error) {
      if (error instanceof VerificationError)
        return fail(i, error.code, `block ${height}: ${error.reason}`, error.penalty);
      throw error;
    }
    try {
      const own = ctx.validators.commitSignatureJobs(commit, height, block.hash, ctx.chainIdHash);
      addJobs(
        i,
        block.hash,
        own.map((j) => ({ ...j, txid: block.hash, inputIndex: i })),
      );
    } catch (error) {
      if (error instanceof VerificationError)
        return fail(i, 'BLOCK_BAD_COMMIT', `certificate of block ${height}: ${error.reason}`);
      throw error;
    }
    if (height >= 2) {
      try {
        const last = ctx.validators.commitSignatureJobs(
          block.lastCommit,
          height - 1,
          block.header.prevHash,
          ctx.chainIdHash,
        );
        addJobs(
          i,
          block.hash,
          last.map((j) => ({ ...j, txid: block.hash, inputIndex: i })),
        );
      } catch (error) {
        if (error instanceof VerificationError)
          return fail(i, 'BLOCK_BAD_LAST_COMMIT', `block ${height}: ${error.reason}`);
        throw error;
      }
    }
    previous = block.hash;
  }
  return { result: { ok: true }, jobs };
}

/** The whole check: shape first, then every certificate signature in one batch. */
export async function checkRange(
  items: readonly BlockWithCommit[],
  start: number,
  count: number,
  ctx: RangeCheckContext,
  prevHash: Uint8Array | null,
  signatures: RangeSignatureChecker | null,
): Promise<RangeCheckResult> {
  const { result, jobs } = checkRangeShape(items, start, count, ctx, prevHash);
  if (!result.ok || signatures === null || jobs.length === 0) return result;
  try {
    await signatures.check(jobs);
  } catch (error) {
    if (error instanceof VerificationError) {
      const index = Number(error.details['inputIndex'] ?? 0);
      return fault(
        index,
        'BLOCK_BAD_COMMIT',
        `block ${start + index}: a commit certificate signature is invalid`,
        SyncPenalty.violation,
      );
    }
    throw error;
  }
  return result;
}
