/**
 * Cheap checks of a downloaded block range before it reaches the importer:
 * exactly the requested heights in order, then the chain's own block rules
 * (`chain/block-verifier.ts`: size and Merkle root, linkage by
 * prevHash, both commit certificates structurally valid and signed by more
 * than 2/3 of the validators), reported with the chain's typed errors. The certificate signatures of the whole range, and the
 * signatures of every transaction whose spent outputs are already known, go
 * to the parallel verifier in one batch through the signature cache, so the
 * importer finds them verified (signature checks of sync run in the worker
 * threads, not inline on the main thread). A bad range is rejected as a whole before
 * any of it is imported, and the fault names the block and the penalty.
 */
import { certificateJobs, checkBlockBinding, checkLink } from '../../chain/index.ts';
import type {
  ConsensusParams,
  LocatedSignatureJob,
  SignatureJob,
  ValidatorSet,
} from '../../consensus/index.ts';
import { signatureJobs, VerificationError } from '../../consensus/index.ts';
import type { TxOutput } from '../../primitives/index.ts';
import { type Outpoint, outpointKey } from '../../primitives/index.ts';
import { bytesEqual, bytesKey, toHex } from '../../util/index.ts';
import { Penalty } from '../scoring.ts';
import { SyncError } from './errors.ts';
import type { BlockWithCommit } from './network.ts';

export interface RangeCheckContext {
  readonly params: ConsensusParams;
  /** The set that signs tip + 1 (the first block of a range on the tip). */
  readonly validators: ValidatorSet;
  /** The set that signed the tip (the first block's carried commit); `validators` if omitted. */
  readonly lastValidators?: ValidatorSet;
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
      /** The chain's verification error, or a SyncError for what is wrong with the response itself. */
      readonly error: VerificationError | SyncError;
      /** `error`'s code, reason (naming the block) and penalty, for logs and peer scoring. */
      readonly code: string;
      readonly reason: string;
      readonly penalty: number;
    };

function fault(
  index: number,
  error: VerificationError | SyncError,
  height?: number,
): RangeCheckResult {
  const reason = error instanceof VerificationError ? error.reason : error.message;
  return {
    ok: false,
    index,
    error,
    code: error.code,
    reason: height === undefined ? reason : `block ${height}: ${reason}`,
    penalty: error.penalty,
  };
}

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
  const fail = (result: RangeCheckResult) => ({ result, jobs: [] });
  if (items.length > count) {
    return fail(
      fault(
        count,
        new SyncError(
          'SYNC_TOO_MANY_BLOCKS',
          `${items.length} blocks for a range of ${count}`,
          {},
          Penalty.violation,
        ),
      ),
    );
  }
  const seen = new Set<string>();
  const addJobs = (blockHash: Uint8Array, located: readonly SignatureJob[]) => {
    for (const job of located) {
      const key = bytesKey(job.sig) + bytesKey(job.msg) + bytesKey(job.pub);
      if (seen.has(key)) continue;
      seen.add(key);
      jobs.push({ ...job, txid: blockHash, inputIndex: jobs.length });
    }
  };
  let previous: Uint8Array | null = prevHash;
  let previousSetHash: Uint8Array | null = null;
  for (let i = 0; i < items.length; i++) {
    const { block, commit } = items[i]!;
    const height = start + i;
    if (block.height !== height) {
      return fail(
        fault(
          i,
          new SyncError(
            'SYNC_WRONG_HEIGHT',
            `block ${i} of the range has height ${block.height}, not ${height}`,
            {},
            Penalty.violation,
          ),
        ),
      );
    }
    // The chain's own rules: size and the Merkle root binding the body to the
    // certified header (the wtxids computed here are cached on the transactions
    // for the importer, which runs every other body rule), linkage and both
    // certificates.
    try {
      checkBlockBinding(block, ctx.params);
      if (previous !== null) checkLink(block, { height: height - 1, hash: previous });
      // Staking changes the set (from H+2 of a change): a block signed by a set
      // not known yet is left to the importer, which checks its certificates
      // against the sets its state scheduled.
      const lastValidators =
        i === 0
          ? (ctx.lastValidators ?? ctx.validators)
          : previousSetHash !== null && bytesEqual(previousSetHash, ctx.validators.hash)
            ? ctx.validators
            : null;
      if (
        bytesEqual(block.header.validatorSetHash, ctx.validators.hash) &&
        lastValidators !== null
      ) {
        const certificates = certificateJobs(block, commit, {
          ...ctx,
          lastValidators,
          genesisHash: null,
        });
        addJobs(block.hash, certificates.commitJobs);
        addJobs(block.hash, certificates.lastCommitJobs);
      }
    } catch (error) {
      if (error instanceof VerificationError) return fail(fault(i, error, height));
      throw error;
    }
    previous = block.hash;
    previousSetHash = block.header.validatorSetHash;
  }
  return { result: { ok: true }, jobs };
}

/** The whole check: shape first, then every certificate signature in one batch. */
/** Reads spent outputs by outpoint (the UTXO set); undefined where unknown. */
export type CoinReader = (
  outpoints: readonly Outpoint[],
) => Promise<ReadonlyArray<TxOutput | undefined>>;

/**
 * Signature jobs of every transaction in the range whose spent outputs are
 * all known: created earlier in the range, or in the UTXO set now. An
 * outpoint names one output forever, so a signature that fails against it
 * makes the block invalid whatever the order of connection; transactions
 * spending outputs of blocks still in the download pipeline are skipped
 * (the importer checks them). `blockOf` maps a txid (hex) to its block index.
 */
export async function transactionSignatureJobs(
  items: readonly BlockWithCommit[],
  chainIdHash: Uint8Array,
  readCoins: CoinReader,
): Promise<{ jobs: LocatedSignatureJob[]; blockOf: Map<string, number> }> {
  const created = new Map<string, TxOutput>();
  for (const { block } of items) {
    for (const tx of block.txs) {
      tx.outputs.forEach((output, index) => {
        created.set(bytesKey(outpointKey({ txid: tx.txid, index })), output);
      });
    }
  }
  const missing = new Map<string, Outpoint>();
  for (const { block } of items) {
    for (const tx of block.txs) {
      for (const input of tx.inputs) {
        const key = bytesKey(outpointKey(input.prevout));
        if (!created.has(key)) missing.set(key, input.prevout);
      }
    }
  }
  const keys = [...missing.keys()];
  const stored = keys.length === 0 ? [] : await readCoins([...missing.values()]);
  const known = new Map(created);
  keys.forEach((key, i) => {
    const output = stored[i];
    if (output !== undefined) known.set(key, output);
  });
  const jobs: LocatedSignatureJob[] = [];
  const blockOf = new Map<string, number>();
  items.forEach(({ block }, blockIndex) => {
    for (const tx of block.txs) {
      if (tx.isCoinbase) continue;
      const spent: TxOutput[] = [];
      for (const input of tx.inputs) {
        const output = known.get(bytesKey(outpointKey(input.prevout)));
        if (output === undefined) break;
        spent.push(output);
      }
      if (spent.length !== tx.inputs.length || tx.witnesses.length !== tx.inputs.length) continue;
      jobs.push(...signatureJobs(tx, spent, chainIdHash));
      blockOf.set(toHex(tx.txid), blockIndex);
    }
  });
  return { jobs, blockOf };
}

/**
 * The whole check: shape first, then every certificate signature, and the
 * signatures of the transactions whose spent outputs are known (when
 * `readCoins` is given), in one batch through the parallel verifier.
 */
export async function checkRange(
  items: readonly BlockWithCommit[],
  start: number,
  count: number,
  ctx: RangeCheckContext,
  prevHash: Uint8Array | null,
  signatures: RangeSignatureChecker | null,
  readCoins: CoinReader | null = null,
): Promise<RangeCheckResult> {
  const { result, jobs } = checkRangeShape(items, start, count, ctx, prevHash);
  if (!result.ok || signatures === null) return result;
  const blockByHash = new Map<string, number>();
  items.forEach(({ block }, i) => {
    blockByHash.set(toHex(block.hash), i);
  });
  let txBlockOf = new Map<string, number>();
  const all = [...jobs];
  if (readCoins !== null) {
    const txs = await transactionSignatureJobs(items, ctx.chainIdHash, readCoins);
    all.push(...txs.jobs);
    txBlockOf = txs.blockOf;
  }
  if (all.length === 0) return result;
  try {
    await signatures.check(all);
  } catch (error) {
    if (error instanceof VerificationError) {
      const txid = String(error.details['txid'] ?? '');
      const commitIndex = blockByHash.get(txid);
      if (commitIndex !== undefined) {
        return fault(
          commitIndex,
          new VerificationError('BLOCK_BAD_COMMIT', 'a commit certificate signature is invalid'),
          start + commitIndex,
        );
      }
      const index = txBlockOf.get(txid) ?? 0;
      return fault(
        index,
        new VerificationError(
          error.code,
          `transaction ${txid} input ${String(error.details['inputIndex'])}: ${error.reason}`,
          error.details,
        ),
        start + index,
      );
    }
    throw error;
  }
  return result;
}
