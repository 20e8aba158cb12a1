import type { LocatedSignatureJob, SignatureChecker, SignatureJob } from '../consensus/index.ts';
import {
  blockSubsidy,
  type ConsensusParams,
  checkTxInputs,
  checkTxSanity,
  readValidatorSet,
  signatureJobs,
  toValidatorSet,
  type ValidatorSet,
  VerificationError,
} from '../consensus/index.ts';
import type { MuHash3072 } from '../crypto/index.ts';
import type { Block, Transaction } from '../primitives/index.ts';
import {
  type Coin,
  CommitCertificate,
  decodeCoin,
  outpointKey,
  sumAmounts,
} from '../primitives/index.ts';
import type { StateOverlay, StateReader, StateUpdate } from '../state/index.ts';
import { bytesEqual, bytesKey, toHex } from '../util/index.ts';
import type { ContractRuntime } from '../vm/index.ts';
import type { BlockContractSummary } from './contract-transition.ts';
import {
  checkEvidenceBinding,
  checkEvidenceSignatures,
  type EvidenceHistory,
} from './evidence-rules.ts';
import type { SpentCoin } from './records.ts';
import { runStateTransition, stakingEffectOf } from './state-transition.ts';
import { applyUtxoChanges, createdCoin } from './utxo-changes.ts';
import type { CoinSource, CreatedCoin } from './utxo-set.ts';

export interface TipState {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly time: number;
  readonly utxoState: MuHash3072;
}

/**
 * The state store as of the tip, for the block's state transition: the chain
 * gives its StateStore (prepare = the batch operations), verify-chain an
 * in-memory replay (prepare = the root recomputed, nothing to write).
 */
export interface BlockStateSource {
  readonly reader: StateReader;
  prepare(
    overlay: StateOverlay,
    height: number,
  ): Promise<{ readonly root: Uint8Array; readonly update: StateUpdate | null }>;
}

export interface BlockContext {
  readonly params: ConsensusParams;
  readonly chainIdHash: Uint8Array;
  readonly genesisHash: Uint8Array;
  readonly tip: TipState;
  readonly state: BlockStateSource;
  readonly coins: CoinSource;
  readonly signatures: SignatureChecker;
  /** Local clock for the future-time rule; null when re-validating stored blocks. */
  readonly now: number | null;
  /** The node's contract engine (compiled code cached across blocks). */
  readonly contracts: ContractRuntime;
  /** Past validator sets and block times, for the evidence a block commits. */
  readonly evidenceHistory: EvidenceHistory;
}

/** Everything a valid block changes, ready to be written as one batch. */
export interface ConnectPlan {
  readonly block: Block;
  readonly commit: CommitCertificate;
  /** Coins that existed before the block and are spent by it (the undo data). */
  readonly spent: readonly SpentCoin[];
  /** Coins the block creates that are still unspent after it. */
  readonly created: readonly CreatedCoin[];
  readonly utxoState: MuHash3072;
  readonly fees: bigint;
  /** For each transaction, the coins its inputs spent (in-block ones included). */
  readonly spentByTx: readonly (readonly Coin[])[];
  /** The state store's writes for the block batch (null when replaying in memory). */
  readonly state: StateUpdate | null;
  /** The validator set the block scheduled for height + 2. */
  readonly scheduledSet: ValidatorSet;
  /** The block's contract work: results, gas, events (for the API's stream). */
  readonly contracts: BlockContractSummary;
}

/** The validator set stored for `height` in `reader` (the state holds tip-1 .. tip+2). */
export async function validatorSetAt(reader: StateReader, height: number): Promise<ValidatorSet> {
  const members = await readValidatorSet(reader, height);
  if (members === undefined) throw new RangeError(`no validator set stored for height ${height}`);
  return toValidatorSet(members);
}

const fail = (
  code: ConstructorParameters<typeof VerificationError>[0],
  reason: string,
  details = {},
) => new VerificationError(code, reason, details);

/**
 * The cheapest checks that bind a body to its header: size and Merkle root.
 * Sync runs these on whole ranges before download pipelining; the rest of
 * the sanity checks run once, in the importer.
 */
export function checkBlockBinding(block: Block, params: ConsensusParams): void {
  if (block.size > params.maxBlockBytes) {
    throw fail('BLOCK_TOO_LARGE', `${block.size} bytes > ${params.maxBlockBytes}`);
  }
  if (!bytesEqual(block.computeTxRoot(), block.header.txRoot))
    throw fail('BLOCK_BAD_TX_ROOT', 'Merkle root mismatch');
  checkEvidenceBinding(block, params);
}

/** Checks that need nothing but the block: size, shape, tx sanity, Merkle root. */
export function checkBlockSanity(block: Block, params: ConsensusParams): void {
  if (block.size > params.maxBlockBytes) {
    throw fail('BLOCK_TOO_LARGE', `${block.size} bytes > ${params.maxBlockBytes}`);
  }
  const [coinbase, ...rest] = block.txs;
  if (coinbase === undefined || !coinbase.isCoinbase)
    throw fail('BLOCK_NO_COINBASE', 'first transaction is not a coinbase');
  if (rest.some((tx) => tx.isCoinbase))
    throw fail('BLOCK_MULTIPLE_COINBASE', 'more than one coinbase');
  if (coinbase.lockTime !== block.height) {
    throw fail(
      'BLOCK_BAD_COINBASE_LOCKTIME',
      `coinbase lock time ${coinbase.lockTime} != height ${block.height}`,
    );
  }
  const txids = new Set<string>();
  for (const tx of block.txs) {
    checkTxSanity(tx, params);
    const key = bytesKey(tx.txid);
    if (txids.has(key))
      throw fail('BLOCK_DUPLICATE_TX', `transaction ${toHex(tx.txid)} appears twice`);
    txids.add(key);
  }
  if (!bytesEqual(block.computeTxRoot(), block.header.txRoot))
    throw fail('BLOCK_BAD_TX_ROOT', 'Merkle root mismatch');
  checkEvidenceBinding(block, params);
}

/** The parent a block must link to: height + 1 and prevHash. */
export function checkLink(
  block: Block,
  parent: { readonly height: number; readonly hash: Uint8Array },
): void {
  if (block.header.height !== parent.height + 1)
    throw fail('BLOCK_BAD_HEIGHT', `height ${block.header.height} on parent ${parent.height}`);
  if (!bytesEqual(block.header.prevHash, parent.hash))
    throw fail('BLOCK_BAD_PREV', `block ${block.header.height} does not build on its parent`);
}

/**
 * The certificates a block is bound by: the parent's commit it carries
 * (`lastCommit`, empty for block 1 when `genesisHash` is known) and the commit
 * that made it final. Checks their structure and quorum and returns the
 * signature jobs of each, for the caller to verify in a batch. Throws
 * BLOCK_BAD_LAST_COMMIT or BLOCK_BAD_COMMIT.
 */
export function certificateJobs(
  block: Block,
  commit: CommitCertificate,
  ctx: CertificateContext,
): { lastCommitJobs: SignatureJob[]; commitJobs: SignatureJob[] } {
  return {
    lastCommitJobs: lastCommitJobsOf(block, ctx),
    commitJobs: commitJobsOf(block, commit, ctx),
  };
}

interface CertificateContext {
  /** The set that signs `block.height`. */
  readonly validators: ValidatorSet;
  /** The set that signed `block.height - 1` (the carried commit); `validators` if omitted. */
  readonly lastValidators?: ValidatorSet;
  readonly chainIdHash: Uint8Array;
  readonly genesisHash: Uint8Array | null;
}

/** The signature jobs of the parent's commit that `block` carries; throws BLOCK_BAD_LAST_COMMIT. */
function lastCommitJobsOf(block: Block, ctx: CertificateContext): SignatureJob[] {
  const { header } = block;
  if (!bytesEqual(header.lastCommitHash, block.lastCommit.hash))
    throw fail('BLOCK_BAD_LAST_COMMIT', 'lastCommitHash mismatch');
  if (header.height === 1) {
    if (
      ctx.genesisHash !== null &&
      !bytesEqual(block.lastCommit.encode(), CommitCertificate.empty(ctx.genesisHash).encode())
    ) {
      throw fail('BLOCK_BAD_LAST_COMMIT', 'block 1 must carry the empty genesis commit');
    }
    return [];
  }
  return (ctx.lastValidators ?? ctx.validators).commitSignatureJobs(
    block.lastCommit,
    header.height - 1,
    header.prevHash,
    ctx.chainIdHash,
  );
}

/** The signature jobs of the commit that makes `block` final; throws BLOCK_BAD_COMMIT. */
function commitJobsOf(
  block: Block,
  commit: CommitCertificate,
  ctx: { readonly validators: ValidatorSet; readonly chainIdHash: Uint8Array },
): SignatureJob[] {
  try {
    return ctx.validators.commitSignatureJobs(
      commit,
      block.header.height,
      block.hash,
      ctx.chainIdHash,
    );
  } catch (error) {
    if (error instanceof VerificationError) throw fail('BLOCK_BAD_COMMIT', error.reason);
    throw error;
  }
}

/**
 * Full validation of `block` on top of `ctx.tip`, certified final by
 * `commit`. Cheap checks run first and signatures last; nothing is written.
 */
export async function planBlockConnect(
  block: Block,
  commit: CommitCertificate,
  ctx: BlockContext,
): Promise<ConnectPlan> {
  return { ...(await planBlock(block, commit, ctx)), commit };
}

/** What validating a proposal yields: a connect plan that lacks only the block's commit. */
export type ProposalPlan = Omit<ConnectPlan, 'commit'>;

/**
 * Every rule of `block` on top of `ctx.tip` except its own commit
 * certificate, which does not exist while the block is a proposal. A
 * validator prevotes only for a block that passes this, and keeps the plan
 * so that the commit needs no second validation (`certifyProposal`).
 */
export function planProposal(block: Block, ctx: BlockContext): Promise<ProposalPlan> {
  return planBlock(block, null, ctx);
}

/** Completes a validated proposal with the commit that made it final: checks only the commit. */
export async function certifyProposal(
  plan: ProposalPlan,
  commit: CommitCertificate,
  ctx: {
    /** The set that signs the block's height (the chain's `validatorsAt`). */
    readonly validators: ValidatorSet;
    readonly chainIdHash: Uint8Array;
    readonly signatures: SignatureChecker;
  },
): Promise<ConnectPlan> {
  const jobs = commitJobsOf(plan.block, commit, ctx);
  await checkCommitSignatures(ctx.signatures, jobs, plan.block.hash, 'BLOCK_BAD_COMMIT');
  return { ...plan, commit };
}

async function planBlock(
  block: Block,
  commit: CommitCertificate | null,
  ctx: BlockContext,
): Promise<ProposalPlan> {
  const { header } = block;
  const { tip, params } = ctx;
  checkBlockSanity(block, params);

  checkLink(block, tip);
  if (header.time <= tip.time)
    throw fail('BLOCK_BAD_TIME', `time ${header.time} <= parent time ${tip.time}`);
  if (ctx.now !== null && header.time > ctx.now + params.maxFutureBlockTimeMs) {
    throw fail(
      'BLOCK_TIME_TOO_FAR_AHEAD',
      `time ${header.time} is ${header.time - ctx.now} ms ahead`,
    );
  }
  const validators = await validatorSetAt(ctx.state.reader, header.height);
  const lastValidators =
    header.height > 1 ? await validatorSetAt(ctx.state.reader, header.height - 1) : validators;
  if (!bytesEqual(header.validatorSetHash, validators.hash))
    throw fail('BLOCK_BAD_VALIDATOR_SET', 'validator set hash mismatch');
  // The set of height + 1 was scheduled by block height - 1: known before this block.
  const nextValidators = await validatorSetAt(ctx.state.reader, header.height + 1);
  if (!bytesEqual(header.nextValidatorSetHash, nextValidators.hash))
    throw fail('BLOCK_BAD_VALIDATOR_SET', 'next validator set hash mismatch');
  if (validators.indexOf(header.proposer) === -1)
    throw fail('BLOCK_BAD_PROPOSER', 'proposer is not a validator');
  const certificateContext = {
    validators,
    lastValidators,
    chainIdHash: ctx.chainIdHash,
    genesisHash: ctx.genesisHash,
  };
  const { lastCommitJobs, commitJobs } =
    commit === null
      ? { lastCommitJobs: lastCommitJobsOf(block, certificateContext), commitJobs: [] }
      : certificateJobs(block, commit, certificateContext);

  const { spent, created, spentByTx } = await resolveUtxoChanges(
    block.txs,
    header.height,
    ctx.coins,
  );
  // Staking and liveness after the coins resolve, before fees: a bond's
  // amount leaves the inputs and a withdrawal's joins them.
  const transition = await runStateTransition(
    ctx.state.reader,
    {
      height: header.height,
      time: header.time,
      lastCommit: block.lastCommit,
      txs: block.txs,
      spentByTx,
      evidence: block.evidence,
    },
    ctx,
  );
  const state = await ctx.state.prepare(transition.overlay, header.height);
  if (!bytesEqual(state.root, header.stateRoot))
    throw fail('BLOCK_BAD_STATE_ROOT', 'state root after the block does not match the header');
  let fees = 0n;
  // Transaction signatures go to the verifier in batches as their jobs are
  // built, so the workers start while this thread is still computing
  // signature hashes (and then the UTXO commitment). Results are awaited in
  // block order below, so the error reported is the one a single batch gives.
  const txChecks: Promise<void>[] = [];
  let txJobs: LocatedSignatureJob[] = [];
  block.txs.forEach((tx, i) => {
    if (tx.isCoinbase) return;
    fees += checkTxInputs(tx, spentByTx[i]!, header.height, params, stakingEffectOf(transition, i));
    for (const job of signatureJobs(tx, spentByTx[i]!, ctx.chainIdHash)) txJobs.push(job);
    if (txJobs.length >= SIGNATURE_BATCH) {
      txChecks.push(early(ctx.signatures.check(txJobs)));
      txJobs = [];
    }
  });
  txChecks.push(early(ctx.signatures.check(txJobs)));
  const coinbaseTotal = sumAmounts(
    block.txs[0]!.outputs.map((o) => o.amount),
    'coinbase outputs',
  );
  const allowed = blockSubsidy(params, header.height) + fees;
  if (coinbaseTotal > allowed)
    throw fail(
      'BLOCK_COINBASE_TOO_LARGE',
      `coinbase pays ${coinbaseTotal} > subsidy + fees ${allowed}`,
    );

  // Signatures are checked in worker threads; the UTXO commitment is computed
  // on this thread meanwhile, so the two most expensive steps overlap.
  const commitChecks = [
    early(
      checkCommitSignatures(ctx.signatures, lastCommitJobs, block.hash, 'BLOCK_BAD_LAST_COMMIT'),
    ),
    early(checkCommitSignatures(ctx.signatures, commitJobs, block.hash, 'BLOCK_BAD_COMMIT')),
  ];
  const evidenceChecked = early(
    checkEvidenceSignatures(ctx.signatures, transition.evidenceJobs, block.hash),
  );
  const utxoState = applyUtxoChanges(tip.utxoState, { spent, created });
  const utxoRootMatches = bytesEqual(utxoState.finalize(), header.utxoRoot);
  // In a fixed order (the commits, then the transactions in block order): the
  // first failure in that order is reported, however the batches finish.
  for (const check of [...commitChecks, ...txChecks, evidenceChecked]) await check;
  if (!utxoRootMatches) {
    throw fail('BLOCK_BAD_UTXO_ROOT', 'UTXO commitment after the block does not match the header');
  }
  return {
    block,
    spent,
    created,
    utxoState,
    fees,
    spentByTx,
    state: state.update,
    scheduledSet: toValidatorSet(transition.scheduled),
    contracts: transition.contracts,
  };
}

/**
 * Signatures per batch sent while a block's jobs are still being built: large
 * enough that a batch's hand-off is small next to its verification (~8 ms of
 * one core for 512), small enough that the workers start early.
 */
const SIGNATURE_BATCH = 512;

/**
 * Marks a check started before the code that awaits it (which may throw
 * first, for an earlier-ordered error) as handled, so that its rejection is
 * not an unhandled one. The returned promise still rejects when awaited.
 */
function early(check: Promise<void>): Promise<void> {
  check.catch(() => undefined);
  return check;
}

async function checkCommitSignatures(
  checker: SignatureChecker,
  jobs: SignatureJob[],
  blockHash: Uint8Array,
  code: 'BLOCK_BAD_LAST_COMMIT' | 'BLOCK_BAD_COMMIT',
): Promise<void> {
  if (jobs.length === 0) return;
  try {
    await checker.check(jobs.map((job, inputIndex) => ({ ...job, txid: blockHash, inputIndex })));
  } catch (error) {
    if (error instanceof VerificationError)
      throw fail(code, `signature ${error.details['inputIndex']} is invalid`);
    throw error;
  }
}

/** What a list of transactions does to the UTXO set at `height`. */
export interface UtxoChanges {
  readonly spent: SpentCoin[];
  readonly created: CreatedCoin[];
  /** For each transaction, the coins its inputs spend, in input order. */
  readonly spentByTx: Coin[][];
}

/**
 * Resolves every input to the coin it spends, in block order: a transaction
 * may spend an output of an earlier transaction of the same block, never of a
 * later one. Coins not created in the block are fetched in one batch. The
 * first transaction is the coinbase: its outputs are flagged as such.
 */
export async function resolveUtxoChanges(
  txs: readonly Transaction[],
  height: number,
  coins: CoinSource,
): Promise<UtxoChanges> {
  const inputKeys: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const tx of txs) {
    for (const input of tx.inputs) {
      const key = outpointKey(input.prevout);
      const k = bytesKey(key);
      if (seen.has(k))
        throw fail(
          'BLOCK_DOUBLE_SPEND',
          `outpoint ${toHex(input.prevout.txid)}:${input.prevout.index} spent twice`,
        );
      seen.add(k);
      inputKeys.push(key);
    }
  }
  const stored = await coins.getCoins(inputKeys);

  const createdInBlock = new Map<string, CreatedCoin>();
  const spent: SpentCoin[] = [];
  const spentByTx: Coin[][] = [];
  let inputCursor = 0;
  txs.forEach((tx, txIndex) => {
    const txCoins: Coin[] = [];
    for (const _ of tx.inputs) {
      const key = inputKeys[inputCursor]!;
      const storedCoin = stored[inputCursor]!;
      inputCursor++;
      const k = bytesKey(key);
      const inBlock = createdInBlock.get(k);
      if (inBlock !== undefined) {
        createdInBlock.delete(k);
        txCoins.push(decodeCoin(inBlock.coin));
      } else if (storedCoin !== undefined) {
        spent.push({ key, coin: storedCoin });
        txCoins.push(decodeCoin(storedCoin));
      } else {
        throw fail(
          'TX_INPUT_MISSING',
          `transaction ${toHex(tx.txid)} spends a missing or spent output`,
          {
            txid: toHex(tx.txid),
          },
        );
      }
    }
    spentByTx.push(txCoins);
    tx.outputs.forEach((_, index) => {
      const created = createdCoin(tx, txIndex, index, height);
      createdInBlock.set(bytesKey(created.key), created);
    });
  });
  return { spent, created: [...createdInBlock.values()], spentByTx };
}
