import { EventEmitter } from 'node:events';
import type { ConsensusParams, SignatureChecker, TxStakingEffect } from '../consensus/index.ts';
import {
  checkTxInputs,
  checkTxSanity,
  signatureJobs,
  VerificationError,
} from '../consensus/index.ts';
import type { Block, Coin, Transaction, TxOutput } from '../primitives/index.ts';
import { type Outpoint, outpointKey } from '../primitives/index.ts';
import {
  bytesKey,
  type Clock,
  SerialQueue,
  systemClock,
  toHex,
  UtxodError,
} from '../util/index.ts';
import { ContractAdmissions, checkContractAdmission, virtualSize } from './contract-admission.ts';
import { MempoolEntry, type MempoolEntryView } from './entry.ts';
import { MempoolError } from './errors.ts';
import { paysFeeRate } from './feerate.ts';
import { TxGraph } from './graph.ts';
import {
  type MempoolOptions,
  type ResolvedMempoolOptions,
  resolveMempoolOptions,
} from './options.ts';
import { checkOrphanWitnesses } from './orphan-checks.ts';
import { OrphanPool } from './orphans.ts';
import { checkPackageLimits, checkReplacement, FeeFloor } from './policy.ts';
import { sameOutputs } from './preverified.ts';
import {
  decodeSnapshot,
  encodeSnapshot,
  readSnapshotFile,
  type SnapshotEntry,
  writeSnapshotFile,
} from './snapshot.ts';
import { StakingAdmissions } from './staking-admission.ts';
import { type BlockTemplate, buildTemplate, type TemplateLimits } from './template.ts';
import type {
  AdmissionResult,
  BlockRemovalResult,
  LoadResult,
  MempoolChainView,
  MempoolEvents,
  MempoolModules,
  MempoolStats,
  TxOrigin,
} from './types.ts';

/** Admission state computed before any mutation: everything `commit` needs. */
interface AdmissionPlan {
  readonly tx: Transaction;
  readonly key: string;
  readonly inputKeys: readonly string[];
  readonly fee: bigint;
  /** What the pool counts: bytes, or the gas reserved as block bytes (virtualSize). */
  readonly size: number;
  readonly time: number;
  /** Coin spent by each input, for the signature hash. */
  readonly spent: readonly Coin[];
  readonly parents: ReadonlySet<MempoolEntry>;
  readonly evict: ReadonlySet<MempoolEntry>;
}

interface AdmitOptions {
  readonly time: number;
  /** False for snapshot reloads: a saved tx whose parent is gone is not worth keeping. */
  readonly allowOrphan: boolean;
  /** Who sent it, for the orphan pool's per-sender bound (see `add`). */
  readonly source: string;
  /**
   * The outputs `tx` spent when all its signatures passed before the lock
   * (`preverify`). If admission resolves the same ones, the signature hashes
   * are the same and the check is done: it is not repeated.
   */
  readonly preverified?: readonly TxOutput[] | undefined;
}

/**
 * Unconfirmed transactions waiting for a block, with full replace-by-fee.
 *
 * Lookups, all O(1): txid -> entry, spent outpoint -> spending entry (so a
 * double spend is found without scanning), direct parent/child links per
 * entry, and an orphan pool keyed by missing parent txid.
 *
 * Two binary heaps whose items know their own slot (O(log n) insert, removal
 * and re-key, O(1) peek): eviction order, lowest descendant score first (the
 * max of an entry's own fee rate and its descendant package's, so a parent
 * that a child pays for is not evicted as cheap), and mining order, highest
 * ancestor-package fee rate first, which block templates start from (see
 * template.ts). The package totals behind both are maintained incrementally:
 * an insert walks its ancestors (at most maxAncestors), a removal walks the
 * ancestors or, for a confirmed entry, the descendants (at most maxDescendants).
 *
 * Admission and block removal run one at a time under an async mutex, so two
 * transactions racing for one outpoint are decided in arrival order; reads
 * and `expire` are synchronous and never see a half-applied change.
 */
export class Mempool {
  /** Observer events; nothing on the admission path depends on listeners. */
  readonly events = new EventEmitter<MempoolEvents>();
  private readonly opts: ResolvedMempoolOptions;
  private readonly params: ConsensusParams;
  private readonly chainIdHash: Uint8Array;
  private readonly chain: MempoolChainView;
  private readonly signatures: SignatureChecker;
  private readonly clock: Pick<Clock, 'now'>;

  private readonly graph = new TxGraph();
  private readonly staking: StakingAdmissions;
  private readonly contracts: ContractAdmissions;
  private readonly orphans: OrphanPool;
  private readonly lock = new SerialQueue();
  private nextSequence = 0;
  private lastBlockHeight = -1;
  /** Raised when the pool overflows so that what was just evicted cannot come straight back. */
  private readonly floor: FeeFloor;

  private readonly counters = {
    accepted: 0,
    evicted: 0,
    replaced: 0,
    expired: 0,
    confirmed: 0,
    conflicted: 0,
    orphansAdded: 0,
    orphansDropped: 0,
    orphansSourceLimited: 0,
  };
  private readonly rejectedByCode = new Map<string, number>();

  constructor(opts: MempoolOptions, modules: MempoolModules) {
    this.opts = resolveMempoolOptions(opts);
    this.params = modules.params;
    this.chainIdHash = modules.chainIdHash;
    this.chain = modules.chain;
    this.signatures = modules.signatures;
    this.clock = modules.clock ?? systemClock;
    this.orphans = new OrphanPool(this.opts);
    this.floor = new FeeFloor(this.opts);
    const tracked = { chain: this.chain, clock: this.clock, entries: this.graph.byTxid };
    this.staking = new StakingAdmissions(tracked);
    this.contracts = new ContractAdmissions(tracked);
  }

  get options(): Readonly<ResolvedMempoolOptions> {
    return this.opts;
  }

  // ---------------------------------------------------------------- reads

  get size(): number {
    return this.graph.byTxid.size;
  }

  /** Sum of the encoded sizes of all entries. */
  get bytes(): number {
    return this.graph.totalBytes;
  }

  get(txid: Uint8Array): MempoolEntryView | undefined {
    return this.graph.byTxid.get(bytesKey(txid));
  }

  has(txid: Uint8Array): boolean {
    return this.graph.byTxid.has(bytesKey(txid));
  }

  hasOrphan(txid: Uint8Array): boolean {
    return this.orphans.has(bytesKey(txid));
  }

  /** The pool entry spending `outpoint`, if any. */
  spenderOf(outpoint: Outpoint): MempoolEntryView | undefined {
    return this.graph.bySpent.get(bytesKey(outpointKey(outpoint)));
  }

  /** Entries in arrival order (every parent before its children). */
  entries(): IterableIterator<MempoolEntryView> {
    return this.graph.byTxid.values();
  }

  /** What a transaction must pay now, base units per 1000 bytes: min relay or the overflow floor. */
  get minFeeRate(): bigint {
    // (Not Math.max: that does not take bigints.)
    const floor = this.floor.current(this.clock.now(), this.graph.totalBytes);
    if (floor > this.opts.minRelayFeeRate) return floor;
    return this.opts.minRelayFeeRate;
  }

  get stats(): MempoolStats {
    return {
      ...this.counters,
      rejected: Object.fromEntries(this.rejectedByCode),
      orphans: this.orphans.size,
      orphanBytes: this.orphans.bytes,
      orphanSources: this.orphans.sources,
    };
  }

  blockTemplate(limits: TemplateLimits): BlockTemplate {
    return buildTemplate(this.graph.miningOrder.toArray(), limits);
  }

  // ------------------------------------------------------------ admission

  /**
   * Admits `tx` or throws why not: MempoolError for policy, VerificationError
   * for consensus (with the penalty the sender earned). Missing inputs are
   * not an error: the transaction waits in the orphan pool.
   */
  /**
   * Admits `tx`; `origin` says whether this node's user or a peer sent it
   * (default: local). `source` names the sender for the orphan pool's
   * per-sender bound: `api:sub:<token subject>` or `api:ip:<address>` for API
   * clients, `peer:<peer id>` for peers; without it all of one origin share.
   */
  async add(
    tx: Transaction,
    origin: TxOrigin = 'local',
    source: string = origin,
  ): Promise<AdmissionResult> {
    const preverified = await this.preverify(tx);
    const result = await this.lock.run(async (): Promise<AdmissionResult> => {
      const admitted = await this.admit(tx, {
        time: this.clock.now(),
        allowOrphan: true,
        source,
        preverified,
      });
      if (admitted.status !== 'accepted') return admitted;
      const resolvedOrphans = await this.resolveOrphans([bytesKey(admitted.txid)]);
      return { ...admitted, resolvedOrphans };
    });
    if (result.status === 'accepted') {
      this.events.emit('accepted', { tx, origin });
      for (const orphan of result.resolvedOrphans)
        this.events.emit('accepted', { tx: orphan, origin: 'orphan' });
    }
    return result;
  }

  /**
   * Signatures verified before queueing for the lock, so that concurrent
   * admissions reach the verifier pool together; admission then hits the
   * signature cache. Skipped when an input cannot be resolved yet. Returns
   * the outputs spent when every signature passed: admission then skips the
   * second signature-hash pass and cache lookups (a sixth of the main
   * thread's admission time in a profile of the mempool bench).
   */
  private async preverify(tx: Transaction): Promise<TxOutput[] | undefined> {
    // Junk is left to admission's cheap checks, which reject it before any signature.
    if (tx.isCoinbase || tx.witnesses.length !== tx.inputs.length) return undefined;
    if (tx.size > this.opts.maxStandardTxBytes || this.graph.byTxid.has(bytesKey(tx.txid))) {
      return undefined;
    }
    const coins = await this.chain.getCoins(tx.inputs.map((input) => input.prevout));
    const spent: TxOutput[] = [];
    for (const [i, { prevout }] of tx.inputs.entries()) {
      const parent = this.graph.byTxid.get(bytesKey(prevout.txid));
      const output = coins[i] ?? parent?.tx.outputs[prevout.index];
      if (output === undefined) return undefined;
      spent.push(output);
    }
    const valid = await this.signatures.preverify(signatureJobs(tx, spent, this.chainIdHash));
    return valid ? spent : undefined;
  }

  /**
   * Staking admission: one pending staking transaction per operator, so each
   * is checked against the state it will meet (two unbonds that together
   * exceed the bond, or a rotation racing a bond, never sit in the pool side
   * by side); then the rules on a fork of the tip's state.
   */
  private async admit(tx: Transaction, options: AdmitOptions): Promise<AdmissionResult> {
    try {
      return await this.admitUnchecked(tx, options);
    } catch (error) {
      if (error instanceof UtxodError) {
        this.rejectedByCode.set(error.code, (this.rejectedByCode.get(error.code) ?? 0) + 1);
      }
      throw error;
    }
  }

  private async admitUnchecked(tx: Transaction, options: AdmitOptions): Promise<AdmissionResult> {
    // Cheapest checks first: junk should cost as little as possible.
    if (tx.isCoinbase) throw new MempoolError('MEMPOOL_COINBASE', 'a coinbase is not relayed');
    checkTxSanity(tx, this.params);
    if (tx.size > this.opts.maxStandardTxBytes) {
      throw new MempoolError(
        'MEMPOOL_NONSTANDARD',
        `${tx.size} bytes > ${this.opts.maxStandardTxBytes}`,
      );
    }
    const key = bytesKey(tx.txid);
    if (this.graph.byTxid.has(key) || this.orphans.has(key)) {
      throw new MempoolError('MEMPOOL_ALREADY_KNOWN', 'already in the pool', {
        txid: toHex(tx.txid),
      });
    }

    const staking = await this.staking.check(tx);

    // Index keys computed once: the entry keeps them for its removal.
    const inputKeys = tx.inputs.map(({ prevout }) => bytesKey(outpointKey(prevout)));
    const fetched = new Map<string, Coin | undefined>();
    let signaturesChecked = false;
    for (;;) {
      const generation = this.graph.generation;
      const unresolved: Outpoint[] = [];
      const unresolvedKeys: string[] = [];
      tx.inputs.forEach(({ prevout }, i) => {
        const opKey = inputKeys[i]!;
        if (this.graph.byTxid.has(bytesKey(prevout.txid)) || fetched.has(opKey)) return;
        unresolved.push(prevout);
        unresolvedKeys.push(opKey);
      });
      if (unresolved.length > 0) {
        const coins = await this.chain.getCoins(unresolved);
        unresolvedKeys.forEach((opKey, i) => {
          fetched.set(opKey, coins[i]);
        });
        if (generation !== this.graph.generation) continue;
      }

      const plan = this.plan(tx, key, inputKeys, fetched, options.time, staking);
      if (!('fee' in plan)) {
        // Its inputs are gone because it was just mined (a common relay race)?
        // Only asked on this path, so accepted transactions pay nothing for it.
        const own = tx.outputs.map((_, index) => ({ txid: tx.txid, index }));
        if ((await this.chain.getCoins(own)).some((coin) => coin !== undefined)) {
          throw new MempoolError('MEMPOOL_ALREADY_KNOWN', 'already confirmed', {
            txid: toHex(tx.txid),
          });
        }
        return this.addOrphan(tx, plan.missing, inputKeys, fetched, options);
      }

      // Signatures last: by far the most expensive check. The checker caches
      // them, so block connect will not verify this transaction again.
      if (!signaturesChecked) {
        if (!sameOutputs(options.preverified, plan.spent)) {
          await this.signatures.check(signatureJobs(tx, plan.spent, this.chainIdHash));
        }
        // Contracts run only for signed transactions: a spend rule trusts ctx.tx.signers.
        await checkContractAdmission(this.chain, tx, plan.spent, options.time);
        signaturesChecked = true;
        // Only `expire` can change the pool while we hold the lock; re-plan on
        // what is there now (outputs are fixed by txid, so the signatures stand).
        if (generation !== this.graph.generation) continue;
      }
      return this.commit(plan);
    }
  }

  /** Every check that needs no await; throws on rejection, mutates nothing. */
  private plan(
    tx: Transaction,
    key: string,
    inputKeys: readonly string[],
    fetched: ReadonlyMap<string, Coin | undefined>,
    time: number,
    staking: TxStakingEffect | undefined,
  ): AdmissionPlan | { missing: Outpoint[] } {
    const height = this.chain.tipHeight + 1;
    const spent: Coin[] = [];
    const parents = new Set<MempoolEntry>();
    const conflicts = new Set<MempoolEntry>();
    const missing: Outpoint[] = [];
    tx.inputs.forEach(({ prevout }, inputIndex) => {
      const opKey = inputKeys[inputIndex]!;
      const parent = this.graph.byTxid.get(bytesKey(prevout.txid));
      if (parent !== undefined) {
        const output = parent.tx.outputs[prevout.index];
        if (output === undefined) {
          throw new VerificationError('TX_INPUT_MISSING', `input ${inputIndex} spends no output`, {
            txid: toHex(tx.txid),
            inputIndex,
          });
        }
        // An unconfirmed parent's output would be confirmed in the same block at the earliest.
        spent.push({ amount: output.amount, lock: output.lock, height, coinbase: false });
        parents.add(parent);
      } else {
        const coin = fetched.get(opKey);
        if (coin === undefined) {
          // Spent by a pool entry yet not in the chain: the chain moved past
          // the pool (a block is being connected). Never an orphan.
          if (this.graph.bySpent.has(opKey)) {
            throw new VerificationError('TX_INPUT_MISSING', `input ${inputIndex} is spent`, {
              txid: toHex(tx.txid),
              inputIndex,
            });
          }
          missing.push(prevout);
          return;
        }
        spent.push(coin);
      }
      const spender = this.graph.bySpent.get(opKey);
      if (spender !== undefined) conflicts.add(spender);
    });
    if (missing.length > 0) return { missing };

    const fee = checkTxInputs(tx, spent, height, this.params, staking);
    const size = virtualSize(tx, spent, this.params);
    if (!paysFeeRate(fee, size, this.opts.minRelayFeeRate)) {
      throw new MempoolError(
        'MEMPOOL_FEE_TOO_LOW',
        `fee ${fee} for ${size} bytes is below the relay minimum of ${this.opts.minRelayFeeRate} per 1000 bytes`,
      );
    }
    const floor = this.floor.current(this.clock.now(), this.graph.totalBytes);
    if (floor > this.opts.minRelayFeeRate && !paysFeeRate(fee, size, floor)) {
      throw new MempoolError(
        'MEMPOOL_FEE_TOO_LOW',
        `fee ${fee} for ${size} bytes is below the full pool's minimum of ${floor} per 1000 bytes`,
      );
    }
    const evict =
      conflicts.size === 0
        ? new Set<MempoolEntry>()
        : checkReplacement(this.graph, this.opts, fee, size, parents, conflicts);
    checkPackageLimits(this.graph, this.opts, parents, evict);
    return { tx, key, inputKeys, fee, size, time, spent, parents, evict };
  }

  private addOrphan(
    tx: Transaction,
    missing: readonly Outpoint[],
    inputKeys: readonly string[],
    fetched: ReadonlyMap<string, Coin | undefined>,
    options: AdmitOptions,
  ): AdmissionResult {
    if (!options.allowOrphan) {
      throw new VerificationError('TX_INPUT_MISSING', 'inputs missing', { txid: toHex(tx.txid) });
    }
    if (tx.size > this.opts.maxOrphanTxBytes) {
      throw new MempoolError(
        'MEMPOOL_ORPHAN_TOO_LARGE',
        `inputs missing and ${tx.size} bytes > ${this.opts.maxOrphanTxBytes}`,
      );
    }
    // Whatever can be checked without the missing parents (orphan-checks.ts).
    const known = tx.inputs.map(
      ({ prevout }, i) =>
        this.graph.byTxid.get(bytesKey(prevout.txid))?.tx.outputs[prevout.index] ??
        fetched.get(inputKeys[i]!),
    );
    checkOrphanWitnesses(tx, known);
    const parentKeys = new Map<string, Uint8Array>();
    for (const prevout of missing) parentKeys.set(bytesKey(prevout.txid), prevout.txid);
    this.counters.orphansAdded++;
    const dropped = this.orphans.add(
      tx,
      bytesKey(tx.txid),
      [...parentKeys.keys()],
      options.time,
      options.source,
    );
    this.counters.orphansDropped += dropped.sourceLimited + dropped.evicted;
    this.counters.orphansSourceLimited += dropped.sourceLimited;
    return { status: 'orphan', txid: tx.txid, missingParents: [...parentKeys.values()] };
  }

  /** Orphans waiting for any of `parentKeys`, admitted in cascade; returns those accepted. */
  private async resolveOrphans(parentKeys: readonly string[]): Promise<Transaction[]> {
    const accepted: Transaction[] = [];
    const queue = [...parentKeys];
    for (let i = 0; i < queue.length; i++) {
      for (const orphan of this.orphans.takeChildrenOf(queue[i]!)) {
        try {
          const result = await this.admit(orphan.tx, {
            time: orphan.time,
            allowOrphan: true,
            source: orphan.source,
          });
          if (result.status === 'accepted') {
            accepted.push(orphan.tx);
            queue.push(bytesKey(result.txid));
          }
        } catch (error) {
          // Counted in stats; the orphan's sender is unknown here, nothing else to do.
          if (!(error instanceof UtxodError)) throw error;
        }
      }
    }
    return accepted;
  }

  private commit(plan: AdmissionPlan): AdmissionResult {
    const replaced = this.graph.removeWithDescendants(plan.evict);
    this.counters.replaced += replaced.length;
    const entry = new MempoolEntry({
      tx: plan.tx,
      key: plan.key,
      inputKeys: plan.inputKeys,
      fee: plan.fee,
      size: plan.size,
      time: plan.time,
      sequence: this.nextSequence++,
    });
    this.graph.insert(entry, plan.parents);
    this.staking.admitted(plan.tx, plan.key);
    this.contracts.admitted(plan.tx, plan.key, plan.spent);
    if (this.graph.totalBytes > this.opts.maxBytes && this.trimToSize().has(entry)) {
      throw new MempoolError('MEMPOOL_FULL', 'pays too little to stay in the full pool', {
        txid: toHex(entry.txid),
      });
    }
    this.counters.accepted++;
    return {
      status: 'accepted',
      txid: entry.txid,
      fee: entry.fee,
      replaced: replaced.map((e) => e.tx),
      resolvedOrphans: [],
    };
  }

  // -------------------------------------------------------- block and time

  /**
   * Drops the block's transactions and every entry that double-spends an
   * input the block spent (with descendants), then admits orphans the block
   * completed. Call after the block is connected to the chain view.
   */
  removeForBlock(block: Block): Promise<BlockRemovalResult> {
    return this.lock.run(async () => {
      const spentByBlock = new Set<string>();
      const confirmed = new Set<MempoolEntry>();
      const conflicts = new Set<MempoolEntry>();
      const blockTxids: string[] = [];
      for (const tx of block.txs) {
        const key = bytesKey(tx.txid);
        blockTxids.push(key);
        const entry = this.graph.byTxid.get(key);
        if (entry !== undefined) {
          // The usual case: its input keys are at hand, and it is their only spender.
          confirmed.add(entry);
          for (const opKey of entry.inputKeys) spentByBlock.add(opKey);
          continue;
        }
        for (const { prevout } of tx.inputs) {
          const opKey = bytesKey(outpointKey(prevout));
          spentByBlock.add(opKey);
          const spender = this.graph.bySpent.get(opKey);
          if (spender !== undefined) conflicts.add(spender);
        }
      }
      // Only an invalid block would both confirm an entry and double-spend it.
      for (const entry of confirmed) conflicts.delete(entry);

      // Parents first: in a valid block a pool entry's pool parents are in the
      // block too, so each removal finds no ancestors left to update.
      for (const entry of [...confirmed].sort((a, b) => a.sequence - b.sequence)) {
        this.graph.removeKeepingDescendants(entry);
      }
      this.counters.confirmed += confirmed.size;
      const conflicted = this.graph.removeWithDescendants(
        this.graph.withDescendants(conflicts),
      ).length;
      this.counters.conflicted += conflicted;

      // Heights only grow (finality, no reorgs), so lock times only become
      // more final and coinbase spends only more mature: nothing else to
      // re-check unless the height went backwards.
      if (block.height <= this.lastBlockHeight) this.dropNonFinal(block.height + 1);
      this.lastBlockHeight = block.height;

      const stale = [...(await this.staking.stale()), ...(await this.contracts.stale())];
      this.counters.conflicted += this.graph.removeWithDescendants(
        this.graph.withDescendants(stale),
      ).length;
      this.counters.orphansDropped += this.orphans.removeSpending(spentByBlock);
      const resolvedOrphans = await this.resolveOrphans(blockTxids);
      for (const orphan of resolvedOrphans)
        this.events.emit('accepted', { tx: orphan, origin: 'orphan' });
      return { confirmed: confirmed.size, conflicted, resolvedOrphans };
    });
  }

  private dropNonFinal(nextHeight: number): void {
    const stale = [...this.graph.byTxid.values()].filter((e) => e.tx.lockTime > nextHeight);
    this.counters.conflicted += this.graph.removeWithDescendants(
      this.graph.withDescendants(stale),
    ).length;
  }

  /** Drops entries older than expiryMs with their descendants, and stale orphans; returns entries dropped. */
  expire(): number {
    const now = this.clock.now();
    const cutoff = now - this.opts.expiryMs;
    const stale: MempoolEntry[] = [];
    for (const entry of this.graph.byTxid.values()) if (entry.time < cutoff) stale.push(entry);
    const removed = this.graph.removeWithDescendants(this.graph.withDescendants(stale)).length;
    this.counters.expired += removed;
    this.counters.orphansDropped += this.orphans.expire(now);
    return removed;
  }

  /**
   * Operator removal: drops `txid` with its descendants (they would spend
   * outputs that no longer exist). Returns how many entries left the pool.
   */
  remove(txid: Uint8Array): number {
    const entry = this.graph.byTxid.get(bytesKey(txid));
    if (entry === undefined) return 0;
    return this.graph.removeWithDescendants(this.graph.withDescendants([entry])).length;
  }

  /** Operator removal of every entry and orphan; returns how many entries left the pool. */
  clear(): number {
    const removed = this.graph.removeWithDescendants(new Set(this.graph.byTxid.values())).length;
    this.orphans.clear();
    return removed;
  }

  // ---------------------------------------------------------- persistence

  encodeSnapshot(): Uint8Array {
    const entries: SnapshotEntry[] = [];
    for (const entry of this.graph.byTxid.values())
      entries.push({ time: entry.time, tx: entry.tx });
    return encodeSnapshot(entries);
  }

  static decodeSnapshot(bytes: Uint8Array): SnapshotEntry[] {
    return decodeSnapshot(bytes);
  }

  /** Writes the snapshot atomically: a crash leaves the old file or the new one. */
  async saveTo(path: string): Promise<void> {
    await writeSnapshotFile(path, this.encodeSnapshot());
  }

  /**
   * Re-admits a saved snapshot through the normal admission path, so nothing
   * that became invalid meanwhile gets in. A missing file is not an error (first
   * start); a corrupt one throws MempoolSnapshotError.
   */
  async loadFrom(path: string): Promise<LoadResult> {
    const entries = await readSnapshotFile(path);
    if (entries === null) return { found: false, accepted: 0, skipped: 0 };
    const cutoff = this.clock.now() - this.opts.expiryMs;
    let accepted = 0;
    let skipped = 0;
    for (const { time, tx } of entries) {
      if (time < cutoff) {
        skipped++;
        continue;
      }
      try {
        await this.lock.run(() => this.admit(tx, { time, allowOrphan: false, source: 'local' }));
        accepted++;
      } catch (error) {
        if (!(error instanceof UtxodError)) throw error;
        skipped++;
      }
    }
    return { found: true, accepted, skipped };
  }

  /** Evicts the lowest descendant scores until under maxBytes; returns everything evicted. */
  private trimToSize(): Set<MempoolEntry> {
    const evicted = new Set<MempoolEntry>();
    while (this.graph.totalBytes > this.opts.maxBytes) {
      const worst = this.graph.evictionOrder.peek();
      if (worst === undefined) break;
      // Whatever comes in next must beat what just left, by the relay rate.
      const score = worst.evictionScore;
      const rate = (score.fee * 1000n + score.size - 1n) / score.size + this.opts.minRelayFeeRate;
      if (rate > this.floor.current(this.clock.now(), this.graph.totalBytes)) {
        this.floor.raise(rate, this.clock.now());
      }
      for (const entry of this.graph.removeWithDescendants(this.graph.withDescendants([worst]))) {
        evicted.add(entry);
      }
    }
    this.counters.evicted += evicted.size;
    return evicted;
  }

  /**
   * Recomputes every index from the entries and throws on the first
   * disagreement. O(n * (A + D)); for tests and a debug RPC, not the hot path.
   */
  checkConsistency(): void {
    this.graph.checkConsistency();
    this.orphans.checkIndexes();
  }
}
