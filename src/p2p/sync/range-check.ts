/**
 * Cheap checks of a downloaded block range before it reaches the importer:
 * exactly the requested heights in order, sizes within bounds, headers
 * linked by prevHash, each body bound to its header by the Merkle root, and
 * every commit certificate (the served one and the block's lastCommit)
 * structurally valid for its block and signed by more than 2/3 of the
 * validators. The certificate signatures of the whole range, and the
 * signatures of every transaction whose spent outputs are already known, go
 * to the parallel verifier in one batch through the signature cache, so the
 * importer finds them verified (signature checks of sync run in the worker
 * threads, not inline on the main thread). A bad range is rejected as a whole before
 * any of it is imported, and the fault names the block and the penalty.
 */
import { VerificationError } from '../../consensus/errors.ts';
import type { ConsensusParams } from '../../consensus/params.ts';
import type { LocatedSignatureJob } from '../../consensus/signatures.ts';
import { signatureJobs } from '../../consensus/tx-rules.ts';
import type { ValidatorSet } from '../../consensus/validator-set.ts';
import { type Outpoint, outpointKey } from '../../primitives/outpoint.ts';
import type { TxOutput } from '../../primitives/transaction.ts';
import { bytesEqual, bytesKey, toHex } from '../../util/bytes.ts';
import { Penalty } from '../scoring.ts';
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
    penalty: number = Penalty.violation,
  ) => ({
    result: fault(index, code, reason, penalty),
    jobs: [],
  });
  if (items.length > count) {
    return fail(count, 'SYNC_TOO_MANY_BLOCKS', `${items.length} blocks for a range of ${count}`);
  }
  const seen = new Set<string>();
  const addJobs = (blockHash: Uint8Array, located: readonly LocatedSignatureJob[]) => {
    for (const job of located) {
      const key = bytesKey(job.sig) + bytesKey(job.msg) + bytesKey(job.pub);
      if (seen.has(key)) continue;
      seen.add(key);
      jobs.push({ ...job, txid: blockHash, inputIndex: jobs.length });
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
    // The Merkle root binds the body to the certified header. (The importer runs every
    // other body rule; the wtxids computed here are cached on the transactions for it.)
    if (!bytesEqual(block.computeTxRoot(), block.header.txRoot)) {
      return fail(i, 'BLOCK_BAD_TX_ROOT', `block ${height}: Merkle root mismatch`);
    }
    try {
      const own = ctx.validators.commitSignatureJobs(commit, height, block.hash, ctx.chainIdHash);
      addJobs(
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
          'BLOCK_BAD_COMMIT',
          `block ${start + commitIndex}: a commit certificate signature is invalid`,
          Penalty.violation,
        );
      }
      const index = txBlockOf.get(txid) ?? 0;
      return fault(
        index,
        error.code,
        `block ${start + index}: transaction ${txid} input ${String(error.details['inputIndex'])}: ${error.reason}`,
        error.penalty,
      );
    }
    throw error;
  }
  return result;
}
