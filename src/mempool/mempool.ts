import { EventEmitter } from 'node:events';
import { open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { VerificationError } from '../consensus/errors.ts';
import type { ConsensusParams } from '../consensus/params.ts';
import type { SignatureChecker } from '../consensus/signatures.ts';
import { checkTxInputs, checkTxSanity, signatureJobs } from '../consensus/tx-rules.ts';
import type { Block } from '../primitives/block.ts';
import type { Coin } from '../primitives/coin.ts';
import { type Outpoint, outpointKey } from '../primitives/outpoint.ts';
import type { Transaction, TxOutput } from '../primitives/transaction.ts';
import { bytesKey, toHex } from '../util/bytes.ts';
import { UtxodError } from '../util/errors.ts';
import { evictsBefore, MempoolEntry, type MempoolEntryView, minesBefore } from './entry.ts';
import { MempoolError } from './errors.ts';
import { compareFeeRate, type FeeAndSize, paysFeeRate } from './feerate.ts';
import { Heap } from './heap.ts';
import { AsyncMutex } from './mutex.ts';
import {
  type MempoolOptions,
  type ResolvedMempoolOptions,
  resolveMempoolOptions,
} from './options.ts';
import { OrphanPool } from './orphans.ts';
import { decodeSnapshot, encodeSnapshot, type SnapshotEntry } from './snapshot.ts';
import { type BlockTemplate, buildTemplate, type TemplateLimits } from './template.ts';

/** All the mempool needs from the chain. */
export interface MempoolChainView {
  /** Height of the current tip; admitted transactions are checked for inclusion at tipHeight + 1. */
  readonly tipHeight: number;
  /** Unspent coins of the chain (not the mempool) for these outpoints, undefined where none. */
  getCoins(outpoints: readonly Outpoint[]): Promise<Array<Coin | undefined>>;
}

export interface MempoolModules {
  readonly params: ConsensusParams;
  readonly chainIdHash: Uint8Array;
  readonly chain: MempoolChainView;
  readonly signatures: SignatureChecker;
  /** Milliseconds since the epoch; injectable so tests control expiry. */
  readonly now?: () => number;
}

export type AdmissionResult =
  | {
      readonly status: 'accepted';
      readonly txid: Uint8Array;
      readonly fee: bigint;
      /** Evicted by replace-by-fee: the direct conflicts and their descendants. */
      readonly replaced: readonly Transaction[];
      /** Orphans that this transaction completed and that were accepted after it, parents first. */
      readonly resolvedOrphans: readonly Transaction[];
    }
  | {
      readonly status: 'orphan';
      readonly txid: Uint8Array;
      /** Txids of the unknown parents (ask the sender for these). */
      readonly missingParents: readonly Uint8Array[];
    };

export interface BlockRemovalResult {
  /** Pool entries the block confirmed. */
  readonly confirmed: number;
  /** Entries dropped because the block spent one of their inputs, with their descendants. */
  readonly conflicted: number;
  /** Orphans whose missing parent the block confirmed, now accepted. */
  readonly resolvedOrphans: readonly Transaction[];
}

export interface LoadResult {
  readonly found: boolean;
  readonly accepted: number;
  /** Saved transactions no longer valid (confirmed, conflicted, expired, below the fee floor...). */
  readonly skipped: number;
}

export interface MempoolStats {
  readonly accepted: number;
  /** Rejections by error code, policy and consensus alike. */
  readonly rejected: Readonly<Record<string, number>>;
  /** Dropped to stay under maxBytes. */
  readonly evicted: number;
  /** Dropped by replace-by-fee. */
  readonly replaced: number;
  readonly expired: number;
  readonly confirmed: number;
  readonly conflicted: number;
  /** Orphans held now. */
  readonly orphans: number;
  readonly orphanBytes: number;
  /** Orphans ever taken in, and dropped for room or age. */
  readonly orphansAdded: number;
  readonly orphansDropped: number;
}

/** Admission state computed before any mutation: everything `commit` needs. */
interface AdmissionPlan {
  readonly tx: Transaction;
  readonly key: string;
  readonly inputKeys: readonly string[];
  readonly fee: bigint;
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
}

const FLOOR_HALF_LIFE_MS = 12 * 60 * 60 * 1000;

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
/** Where an admitted transaction came from: relay decisions depend on it. */
export type TxOrigin = 'local' | 'peer';

export interface MempoolEvents {
  /**
   * A transaction entered the pool. `orphan`: it was waiting for a parent that
   * just arrived. For observers only (relay, streams, metrics).
   */
  accepted: [{ readonly tx: Transaction; readonly origin: TxOrigin | 'orphan' }];
}

export class Mempool {
  /** Observer events; nothing on the admission path depends on listeners. */
  readonly events = new EventEmitter<MempoolEvents>();
  private readonly opts: ResolvedMempoolOptions;
  private readonly params: ConsensusParams;
  private readonly chainIdHash: Uint8Array;
  private readonly chain: MempoolChainView;
  private readonly signatures: SignatureChecker;
  private readonly now: () => number;

  private readonly byTxid = new Map<string, MempoolEntry>();
  private readonly bySpent = new Map<string, MempoolEntry>();
  private readonly evictionOrder = new Heap<MempoolEntry>(evictsBefore, (entry, index) => {
    entry.heapIndex = index;
  });
  private readonly miningOrder = new Heap<MempoolEntry>(minesBefore, (entry, index) => {
    entry.miningIndex = index;
  });
  private readonly orphans: OrphanPool;
  private readonly lock = new AsyncMutex();
  private totalBytes = 0;
  private nextSequence = 0;
  /** Bumped on every change, so an admission that awaited can tell whether its plan went stale. */
  private generation = 0;
  private lastBlockHeight = -1;
  /** Raised when the pool overflows so that what was just evicted cannot come straight back. */
  private floorRate = 0n;
  private floorSince = 0;

  private readonly counters = {
    accepted: 0,
    evicted: 0,
    replaced: 0,
    expired: 0,
    confirmed: 0,
    conflicted: 0,
    orphansAdded: 0,
    orphansDropped: 0,
  };
  private readonly rejectedByCode = new Map<string, number>();

  constructor(opts: MempoolOptions, modules: MempoolModules) {
    this.opts = resolveMempoolOptions(opts);
    this.params = modules.params;
    this.chainIdHash = modules.chainIdHash;
    this.chain = modules.chain;
    this.signatures = modules.signatures;
    this.now = modules.now ?? Date.now;
    this.orphans = new OrphanPool(this.opts);
  }

  get options(): Readonly<ResolvedMempoolOptions> {
    return this.opts;
  }

  // ---------------------------------------------------------------- reads

  get size(): number {
    return this.byTxid.size;
  }

  /** Sum of the encoded sizes of all entries. */
  get bytes(): number {
    return this.totalBytes;
  }

  get(txid: Uint8Array): MempoolEntryView | undefined {
    return this.byTxid.get(bytesKey(txid));
  }

  has(txid: Uint8Array): boolean {
    return this.byTxid.has(bytesKey(txid));
  }

  hasOrphan(txid: Uint8Array): boolean {
    return this.orphans.has(bytesKey(txid));
  }

  /** The pool entry spending `outpoint`, if any. */
  spenderOf(outpoint: Outpoint): MempoolEntryView | undefined {
    return this.bySpent.get(bytesKey(outpointKey(outpoint)));
  }

  /** Entries in arrival order (every parent before its children). */
  entries(): IterableIterator<MempoolEntryView> {
    return this.byTxid.values();
  }

  /** What a transaction must pay now, base units per 1000 bytes: min relay or the overflow floor. */
  get minFeeRate(): bigint {
    // (Not Math.max: that does not take bigints.)
    const floor = this.currentFloor();
    if (floor > this.opts.minRelayFeeRate) return floor;
    return this.opts.minRelayFeeRate;
  }

  get stats(): MempoolStats {
    return {
      ...this.counters,
      rejected: Object.fromEntries(this.rejectedByCode),
      orphans: this.orphans.size,
      orphanBytes: this.orphans.bytes,
    };
  }

  blockTemplate(limits: TemplateLimits): BlockTemplate {
    return buildTemplate(this.miningOrder.toArray(), limits);
  }

  // ------------------------------------------------------------ admission

  /**
   * Admits `tx` or throws why not: MempoolError for policy, VerificationError
   * for consensus (with the penalty the sender earned). Missing inputs are
   * not an error: the transaction waits in the orphan pool.
   */
  /** Admits `tx`; `origin` says whether this node's user or a peer sent it (default: local). */
  async add(tx: Transaction, origin: TxOrigin = 'local'): Promise<AdmissionResult> {
    await this.preverify(tx);
    const result = await this.lock.run(async (): Promise<AdmissionResult> => {
      const admitted = await this.admit(tx, { time: this.now(), allowOrphan: true });
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
   * signature cache. Skipped when an input cannot be resolved yet.
   */
  private async preverify(tx: Transaction): Promise<void> {
    // Junk is left to admission's cheap checks, which reject it before any signature.
    if (tx.isCoinbase || tx.witnesses.length !== tx.inputs.length) return;
    if (tx.size > this.opts.maxStandardTxBytes || this.byTxid.has(bytesKey(tx.txid))) return;
    const coins = await this.chain.getCoins(tx.inputs.map((input) => input.prevout));
    const spent: TxOutput[] = [];
    for (const [i, { prevout }] of tx.inputs.entries()) {
      const parent = this.byTxid.get(bytesKey(prevout.txid));
      const output = coins[i] ?? parent?.tx.outputs[prevout.index];
      if (output === undefined) return;
      spent.push(output);
    }
    await this.signatures.preverify(signatureJobs(tx, spent, this.chainIdHash));
  }

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
    if (this.byTxid.has(key) || this.orphans.has(key)) {
      throw new MempoolError('MEMPOOL_ALREADY_KNOWN', 'already in the pool', {
        txid: toHex(tx.txid),
      });
    }

    // Index keys computed once: the entry keeps them for its removal.
    const inputKeys = tx.inputs.map(({ prevout }) => bytesKey(outpointKey(prevout)));
    const fetched = new Map<string, Coin | undefined>();
    let signaturesChecked = false;
    for (;;) {
      const generation = this.generation;
      const unresolved: Outpoint[] = [];
      const unresolvedKeys: string[] = [];
      tx.inputs.forEach(({ prevout }, i) => {
        const opKey = inputKeys[i]!;
        if (this.byTxid.has(bytesKey(prevout.txid)) || fetched.has(opKey)) return;
        unresolved.push(prevout);
        unresolvedKeys.push(opKey);
      });
      if (unresolved.length > 0) {
        const coins = await this.chain.getCoins(unresolved);
        unresolvedKeys.forEach((opKey, i) => {
          fetched.set(opKey, coins[i]);
        });
        if (generation !== this.generation) continue;
      }

      const plan = this.plan(tx, key, inputKeys, fetched, options.time);
      if (!('fee' in plan)) {
        // Its inputs are gone because it was just mined (a common relay race)?
        // Only asked on this path, so accepted transactions pay nothing for it.
        const own = tx.outputs.map((_, index) => ({ txid: tx.txid, index }));
        if ((await this.chain.getCoins(own)).some((coin) => coin !== undefined)) {
          throw new MempoolError('MEMPOOL_ALREADY_KNOWN', 'already confirmed', {
            txid: toHex(tx.txid),
          });
        }
        return this.addOrphan(tx, key, plan.missing, options);
      }

      // Signatures last: by far the most expensive check. The checker caches
      // them, so block connect will not verify this transaction again.
      if (!signaturesChecked) {
        await this.signatures.check(signatureJobs(tx, plan.spent, this.chainIdHash));
        signaturesChecked = true;
        // Only `expire` can change the pool while we hold the lock; re-plan on
        // what is there now (outputs are fixed by txid, so the signatures stand).
        if (generation !== this.generation) continue;
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
  ): AdmissionPlan | { missing: Outpoint[] } {
    const height = this.chain.tipHeight + 1;
    const spent: Coin[] = [];
    const parents = new Set<MempoolEntry>();
    const conflicts = new Set<MempoolEntry>();
    const missing: Outpoint[] = [];
    tx.inputs.forEach(({ prevout }, inputIndex) => {
      const opKey = inputKeys[inputIndex]!;
      const parent = this.byTxid.get(bytesKey(prevout.txid));
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
          if (this.bySpent.has(opKey)) {
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
      const spender = this.bySpent.get(opKey);
      if (spender !== undefined) conflicts.add(spender);
    });
    if (missing.length > 0) return { missing };

    const fee = checkTxInputs(tx, spent, height, this.params);
    const size = tx.size;
    if (!paysFeeRate(fee, size, this.opts.minRelayFeeRate)) {
      throw new MempoolError(
        'MEMPOOL_FEE_TOO_LOW',
        `fee ${fee} for ${size} bytes is below the relay minimum of ${this.opts.minRelayFeeRate} per 1000 bytes`,
      );
    }
    const floor = this.currentFloor();
    if (floor > this.opts.minRelayFeeRate && !paysFeeRate(fee, size, floor)) {
      throw new MempoolError(
        'MEMPOOL_FEE_TOO_LOW',
        `fee ${fee} for ${size} bytes is below the full pool's minimum of ${floor} per 1000 bytes`,
      );
    }
    const evict =
      conflicts.size === 0
        ? new Set<MempoolEntry>()
        : this.checkReplacement(fee, size, parents, conflicts);
    this.checkPackageLimits(parents, evict);
    return { tx, key, inputKeys, fee, time, spent, parents, evict };
  }

  /**
   * Full replace-by-fee (any transaction may be replaced, no opt-in signal),
   * under Bitcoin Core's anti-DoS rules. Returns what the replacement evicts.
   */
  private checkReplacement(
    fee: bigint,
    size: number,
    parents: ReadonlySet<MempoolEntry>,
    conflicts: ReadonlySet<MempoolEntry>,
  ): Set<MempoolEntry> {
    const max = this.opts.maxReplacements;
    const evict = this.withDescendants(conflicts, max);
    if (evict.size > max) {
      throw new MempoolError(
        'MEMPOOL_TOO_MANY_REPLACEMENTS',
        `would evict more than ${max} transactions`,
      );
    }
    const conflictParents = new Set<MempoolEntry>();
    for (const conflict of conflicts) for (const p of conflict.parents) conflictParents.add(p);
    for (const parent of parents) {
      if (evict.has(parent)) {
        throw new MempoolError(
          'MEMPOOL_REPLACEMENT_REJECTED',
          'spends an output of a transaction it replaces',
        );
      }
      // Otherwise a cheap new ancestor could make the replacement a worse
      // block candidate than what it evicts despite its own higher rate.
      if (!conflictParents.has(parent)) {
        throw new MempoolError(
          'MEMPOOL_REPLACEMENT_REJECTED',
          'adds an unconfirmed input the replaced transactions did not spend',
        );
      }
    }
    const own: FeeAndSize = { fee, size: BigInt(size) };
    for (const conflict of conflicts) {
      if (compareFeeRate(own, conflict.own) <= 0) {
        throw new MempoolError(
          'MEMPOOL_REPLACEMENT_REJECTED',
          `fee rate not above that of ${toHex(conflict.txid)}`,
        );
      }
    }
    let evictedFees = 0n;
    for (const entry of evict) evictedFees += entry.fee;
    // Strictly more than everything evicted, and the difference pays the
    // relay of the replacement itself: otherwise replacing costs nothing and
    // one can make the network relay the same coins forever.
    if (fee <= evictedFees || !paysFeeRate(fee - evictedFees, size, this.opts.minRelayFeeRate)) {
      throw new MempoolError(
        'MEMPOOL_REPLACEMENT_REJECTED',
        `fee ${fee} must exceed the ${evictedFees} it evicts by the relay fee for ${size} bytes`,
      );
    }
    return evict;
  }

  /** Ancestor and descendant limits as they will be once `evict` is gone. */
  private checkPackageLimits(
    parents: ReadonlySet<MempoolEntry>,
    evict: ReadonlySet<MempoolEntry>,
  ): void {
    const ancestors = this.ancestorsOf(parents, this.opts.maxAncestors);
    if (ancestors.size + 1 > this.opts.maxAncestors) {
      throw new MempoolError(
        'MEMPOOL_TOO_MANY_ANCESTORS',
        `more than ${this.opts.maxAncestors - 1} unconfirmed ancestors`,
      );
    }
    const leaving = new Map<MempoolEntry, number>();
    for (const gone of evict) {
      for (const ancestor of this.ancestorsOf(gone.parents)) {
        if (!evict.has(ancestor)) leaving.set(ancestor, (leaving.get(ancestor) ?? 0) + 1);
      }
    }
    for (const ancestor of ancestors) {
      const count = ancestor.descendantCount - (leaving.get(ancestor) ?? 0) + 1;
      if (count > this.opts.maxDescendants) {
        throw new MempoolError(
          'MEMPOOL_TOO_MANY_DESCENDANTS',
          `${toHex(ancestor.txid)} would have more than ${this.opts.maxDescendants} descendants`,
        );
      }
    }
  }

  private addOrphan(
    tx: Transaction,
    key: string,
    missing: readonly Outpoint[],
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
    const parentKeys = new Map<string, Uint8Array>();
    for (const prevout of missing) parentKeys.set(bytesKey(prevout.txid), prevout.txid);
    this.counters.orphansAdded++;
    this.counters.orphansDropped += this.orphans.add(tx, key, [...parentKeys.keys()], options.time);
    return { status: 'orphan', txid: tx.txid, missingParents: [...parentKeys.values()] };
  }

  /** Orphans waiting for any of `parentKeys`, admitted in cascade; returns those accepted. */
  private async resolveOrphans(parentKeys: readonly string[]): Promise<Transaction[]> {
    const accepted: Transaction[] = [];
    const queue = [...parentKeys];
    for (let i = 0; i < queue.length; i++) {
      for (const orphan of this.orphans.takeChildrenOf(queue[i]!)) {
        try {
          const result = await this.admit(orphan.tx, { time: orphan.time, allowOrphan: true });
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
    const replaced = this.removeWithDescendants(plan.evict);
    this.counters.replaced += replaced.length;
    const entry = new MempoolEntry({
      tx: plan.tx,
      key: plan.key,
      inputKeys: plan.inputKeys,
      fee: plan.fee,
      time: plan.time,
      sequence: this.nextSequence++,
    });
    this.insert(entry, plan.parents);
    if (this.totalBytes > this.opts.maxBytes && this.trimToSize().has(entry)) {
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
        const entry = this.byTxid.get(key);
        if (entry !== undefined) {
          // The usual case: its input keys are at hand, and it is their only spender.
          confirmed.add(entry);
          for (const opKey of entry.inputKeys) spentByBlock.add(opKey);
          continue;
        }
        for (const { prevout } of tx.inputs) {
          const opKey = bytesKey(outpointKey(prevout));
          spentByBlock.add(opKey);
          const spender = this.bySpent.get(opKey);
          if (spender !== undefined) conflicts.add(spender);
        }
      }
      // Only an invalid block would both confirm an entry and double-spend it.
      for (const entry of confirmed) conflicts.delete(entry);

      // Parents first: in a valid block a pool entry's pool parents are in the
      // block too, so each removal finds no ancestors left to update.
      for (const entry of [...confirmed].sort((a, b) => a.sequence - b.sequence)) {
        this.removeKeepingDescendants(entry);
      }
      this.counters.confirmed += confirmed.size;
      const conflicted = this.removeWithDescendants(this.withDescendants(conflicts)).length;
      this.counters.conflicted += conflicted;

      // Heights only grow (finality, no reorgs), so lock times only become
      // more final and coinbase spends only more mature: nothing else to
      // re-check unless the height went backwards.
      if (block.height <= this.lastBlockHeight) this.dropNonFinal(block.height + 1);
      this.lastBlockHeight = block.height;

      this.counters.orphansDropped += this.orphans.removeSpending(spentByBlock);
      const resolvedOrphans = await this.resolveOrphans(blockTxids);
      for (const orphan of resolvedOrphans)
        this.events.emit('accepted', { tx: orphan, origin: 'orphan' });
      return { confirmed: confirmed.size, conflicted, resolvedOrphans };
    });
  }

  private dropNonFinal(nextHeight: number): void {
    const stale = [...this.byTxid.values()].filter((e) => e.tx.lockTime > nextHeight);
    this.counters.conflicted += this.removeWithDescendants(this.withDescendants(stale)).length;
  }

  /** Drops entries older than expiryMs with their descendants, and stale orphans; returns entries dropped. */
  expire(): number {
    const now = this.now();
    const cutoff = now - this.opts.expiryMs;
    const stale: MempoolEntry[] = [];
    for (const entry of this.byTxid.values()) if (entry.time < cutoff) stale.push(entry);
    const removed = this.removeWithDescendants(this.withDescendants(stale)).length;
    this.counters.expired += removed;
    this.counters.orphansDropped += this.orphans.expire(now);
    return removed;
  }

  /**
   * Operator removal: drops `txid` with its descendants (they would spend
   * outputs that no longer exist). Returns how many entries left the pool.
   */
  remove(txid: Uint8Array): number {
    const entry = this.byTxid.get(bytesKey(txid));
    if (entry === undefined) return 0;
    return this.removeWithDescendants(this.withDescendants([entry])).length;
  }

  /** Operator removal of every entry and orphan; returns how many entries left the pool. */
  clear(): number {
    const removed = this.removeWithDescendants(new Set(this.byTxid.values())).length;
    this.orphans.clear();
    return removed;
  }

  // ---------------------------------------------------------- persistence

  encodeSnapshot(): Uint8Array {
    const entries: SnapshotEntry[] = [];
    for (const entry of this.byTxid.values()) entries.push({ time: entry.time, tx: entry.tx });
    return encodeSnapshot(entries);
  }

  static decodeSnapshot(bytes: Uint8Array): SnapshotEntry[] {
    return decodeSnapshot(bytes);
  }

  /** Writes the snapshot atomically: temp file, fsync, rename, fsync of the directory. */
  async saveTo(path: string): Promise<void> {
    const bytes = this.encodeSnapshot();
    const temp = `${path}.tmp`;
    const file = await open(temp, 'w', 0o600);
    try {
      await file.writeFile(bytes);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  }

  /**
   * Re-admits a saved snapshot through the normal admission path, so nothing
   * that became invalid meanwhile gets in. A missing file is not an error (first
   * start); a corrupt one throws MempoolSnapshotError.
   */
  async loadFrom(path: string): Promise<LoadResult> {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(path));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        return { found: false, accepted: 0, skipped: 0 };
      }
      throw error;
    }
    const entries = decodeSnapshot(bytes);
    const cutoff = this.now() - this.opts.expiryMs;
    let accepted = 0;
    let skipped = 0;
    for (const { time, tx } of entries) {
      if (time < cutoff) {
        skipped++;
        continue;
      }
      try {
        await this.lock.run(() => this.admit(tx, { time, allowOrphan: false }));
        accepted++;
      } catch (error) {
        if (!(error instanceof UtxodError)) throw error;
        skipped++;
      }
    }
    return { found: true, accepted, skipped };
  }

  // ------------------------------------------------------- index upkeep

  private insert(entry: MempoolEntry, parents: ReadonlySet<MempoolEntry>): void {
    this.byTxid.set(entry.key, entry);
    for (const opKey of entry.inputKeys) this.bySpent.set(opKey, entry);
    for (const parent of parents) {
      entry.parents.add(parent);
      parent.children.add(entry);
    }
    let ancestorSize = entry.size;
    let ancestorFees = entry.fee;
    const ancestors = this.ancestorsOf(parents);
    for (const ancestor of ancestors) {
      ancestor.adjustDescendants(1, entry.size, entry.fee);
      this.evictionOrder.update(ancestor.heapIndex);
      ancestorSize += ancestor.size;
      ancestorFees += ancestor.fee;
    }
    entry.setAncestors(ancestors.size + 1, ancestorSize, ancestorFees);
    this.evictionOrder.push(entry);
    this.miningOrder.push(entry);
    this.totalBytes += entry.size;
    this.generation++;
  }

  /**
   * Removes a set closed under descendants, children before parents so that
   * each removal subtracts exactly itself from every ancestor still present.
   * Returns the removed entries.
   */
  private removeWithDescendants(set: ReadonlySet<MempoolEntry>): MempoolEntry[] {
    const ordered = [...set].sort((a, b) => b.sequence - a.sequence);
    for (const entry of ordered) {
      for (const ancestor of this.ancestorsOf(entry.parents)) {
        ancestor.adjustDescendants(-1, entry.size, entry.fee);
        this.evictionOrder.update(ancestor.heapIndex);
      }
      this.unlink(entry);
    }
    return ordered;
  }

  /**
   * Removes one entry (confirmed by a block) and leaves its children, whose
   * inputs are now confirmed coins. Any ancestor still here (only when the
   * block confirmed a child without its pool parent) is re-totalled.
   */
  private removeKeepingDescendants(entry: MempoolEntry): void {
    const ancestors = this.ancestorsOf(entry.parents);
    const descendants = this.withDescendants(entry.children);
    this.unlink(entry);
    // Each descendant counted `entry` once among its ancestors; it is confirmed now.
    for (const descendant of descendants) {
      descendant.setAncestors(
        descendant.ancestorCount - 1,
        descendant.ancestorSize - entry.size,
        descendant.ancestorFees - entry.fee,
      );
      this.miningOrder.update(descendant.miningIndex);
    }
    for (const ancestor of ancestors) {
      let count = 0;
      let size = 0;
      let fees = 0n;
      for (const member of this.withDescendants([ancestor])) {
        count++;
        size += member.size;
        fees += member.fee;
      }
      ancestor.setDescendants(count, size, fees);
      this.evictionOrder.update(ancestor.heapIndex);
    }
  }

  private unlink(entry: MempoolEntry): void {
    for (const parent of entry.parents) parent.children.delete(entry);
    for (const child of entry.children) child.parents.delete(entry);
    entry.parents.clear();
    entry.children.clear();
    for (const opKey of entry.inputKeys) {
      if (this.bySpent.get(opKey) === entry) this.bySpent.delete(opKey);
    }
    this.byTxid.delete(entry.key);
    this.evictionOrder.removeAt(entry.heapIndex);
    this.miningOrder.removeAt(entry.miningIndex);
    this.totalBytes -= entry.size;
    this.generation++;
  }

  /** Evicts the lowest descendant scores until under maxBytes; returns everything evicted. */
  private trimToSize(): Set<MempoolEntry> {
    const evicted = new Set<MempoolEntry>();
    while (this.totalBytes > this.opts.maxBytes) {
      const worst = this.evictionOrder.peek();
      if (worst === undefined) break;
      // Whatever comes in next must beat what just left, by the relay rate.
      const score = worst.evictionScore;
      const rate = (score.fee * 1000n + score.size - 1n) / score.size + this.opts.minRelayFeeRate;
      if (rate > this.currentFloor()) {
        this.floorRate = rate;
        this.floorSince = this.now();
      }
      for (const entry of this.removeWithDescendants(this.withDescendants([worst]))) {
        evicted.add(entry);
      }
    }
    this.counters.evicted += evicted.size;
    return evicted;
  }

  /**
   * The overflow floor halves every 12 hours (faster while the pool is mostly
   * empty, as in Bitcoin Core), so fees come back down once pressure is gone.
   */
  private currentFloor(): bigint {
    if (this.floorRate === 0n) return 0n;
    const now = this.now();
    let halfLife = FLOOR_HALF_LIFE_MS;
    if (this.totalBytes < this.opts.maxBytes / 4) halfLife /= 4;
    else if (this.totalBytes < this.opts.maxBytes / 2) halfLife /= 2;
    const halvings = Math.floor((now - this.floorSince) / halfLife);
    if (halvings > 0) {
      this.floorRate = halvings >= 64 ? 0n : this.floorRate >> BigInt(halvings);
      this.floorSince += halvings * halfLife;
      if (this.floorRate < this.opts.minRelayFeeRate / 2n) this.floorRate = 0n;
    }
    return this.floorRate;
  }

  /** All pool ancestors reachable from `parents` (inclusive); stops once more than `limit` are found. */
  private ancestorsOf(
    parents: Iterable<MempoolEntry>,
    limit = Number.POSITIVE_INFINITY,
  ): Set<MempoolEntry> {
    const found = new Set<MempoolEntry>();
    const stack = [...parents];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (found.has(next)) continue;
      found.add(next);
      if (found.size > limit) break;
      for (const parent of next.parents) if (!found.has(parent)) stack.push(parent);
    }
    return found;
  }

  /** `roots` and all their pool descendants; stops once more than `limit` are found. */
  private withDescendants(
    roots: Iterable<MempoolEntry>,
    limit = Number.POSITIVE_INFINITY,
  ): Set<MempoolEntry> {
    const found = new Set<MempoolEntry>();
    const stack = [...roots];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (found.has(next)) continue;
      found.add(next);
      if (found.size > limit) break;
      for (const child of next.children) if (!found.has(child)) stack.push(child);
    }
    return found;
  }

  /**
   * Recomputes every index from the entries and throws on the first
   * disagreement. O(n * (A + D)); for tests and a debug RPC, not the hot path.
   */
  checkConsistency(): void {
    const fail = (what: string): never => {
      throw new Error(`mempool inconsistent: ${what}`);
    };
    let bytes = 0;
    let spends = 0;
    for (const [key, entry] of this.byTxid) {
      if (key !== entry.key || key !== bytesKey(entry.tx.txid)) fail('txid index');
      bytes += entry.size;
      const expectedParents = new Set<MempoolEntry>();
      for (const { prevout } of entry.tx.inputs) {
        spends++;
        if (this.bySpent.get(bytesKey(outpointKey(prevout))) !== entry)
          fail('spent-outpoint index');
        const parent = this.byTxid.get(bytesKey(prevout.txid));
        if (parent !== undefined) expectedParents.add(parent);
      }
      if (expectedParents.size !== entry.parents.size) fail('parent links');
      for (const parent of entry.parents) {
        if (!expectedParents.has(parent) || !parent.children.has(entry)) fail('parent links');
      }
      for (const child of entry.children) {
        if (!child.parents.has(entry) || this.byTxid.get(child.key) !== child) fail('child links');
      }
      let count = 0;
      let size = 0;
      let fees = 0n;
      for (const member of this.withDescendants([entry])) {
        count++;
        size += member.size;
        fees += member.fee;
      }
      if (
        count !== entry.descendantCount ||
        size !== entry.descendantSize ||
        fees !== entry.descendantFees
      ) {
        fail(`descendant totals of ${toHex(entry.txid)}`);
      }
      if (
        this.evictionOrder.at(entry.heapIndex) !== entry ||
        this.miningOrder.at(entry.miningIndex) !== entry
      ) {
        fail('heap slots');
      }
      count = 0;
      size = 0;
      fees = 0n;
      for (const member of this.ancestorsOf([entry])) {
        count++;
        size += member.size;
        fees += member.fee;
      }
      if (
        count !== entry.ancestorCount ||
        size !== entry.ancestorSize ||
        fees !== entry.ancestorFees
      ) {
        fail(`ancestor totals of ${toHex(entry.txid)}`);
      }
    }
    if (spends !== this.bySpent.size) fail('spent-outpoint index has extra keys');
    if (bytes !== this.totalBytes) fail(`bytes ${this.totalBytes} != ${bytes}`);
    if (this.evictionOrder.size !== this.byTxid.size) fail('eviction heap size');
    if (this.miningOrder.size !== this.byTxid.size) fail('mining heap size');
    if (!this.evictionOrder.isOrdered() || !this.miningOrder.isOrdered()) fail('heap order');
    this.orphans.checkIndexes();
  }
}
