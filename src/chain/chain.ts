import type { Logger } from 'pino';
import {
  type ConsensusParams,
  type SignatureChecker,
  StakingBlock,
  type TxStakingEffect,
  type ValidatorSet,
} from '../consensus/index.ts';
import type { MuHash3072 } from '../crypto/index.ts';
import type { Header, Transaction } from '../primitives/index.ts';
import {
  type Block,
  type Coin,
  type CommitCertificate,
  chainIdHash,
  decodeCoin,
  type Outpoint,
  outpointFromKey,
  outpointKey,
} from '../primitives/index.ts';
import { DEFAULT_RETAIN_ROOTS, StateOverlay, StateStore } from '../state/index.ts';
import type { BatchOp, Database } from '../storage/index.ts';
import {
  Bucket,
  bucketKey,
  DatabaseError,
  metaKey,
  migrateDatabase,
  SCHEMA_VERSION,
} from '../storage/index.ts';
import { asError, bytesEqual, bytesKey, type Clock, systemClock, toHex } from '../util/index.ts';
import { type BlockContractEvent, ContractRuntime, type ContractTxResult } from '../vm/index.ts';
import {
  addressCoinKey,
  addressIndexOps,
  addressTxKey,
  outpointKeyFromAddressCoinKey,
} from './address-index.ts';
import {
  type BlockContext,
  type BlockStateSource,
  type ConnectPlan,
  certifyProposal,
  type ProposalPlan,
  planBlockConnect,
  planProposal,
  resolveUtxoChanges,
  type TipState,
} from './block-verifier.ts';
import {
  blockWriteOps,
  encodeHistorySet,
  loadSetHistory,
  loadTip,
  setHistoryKey,
  spentLocksOf,
  writeGenesis,
} from './chain-storage.ts';
import { ChainStore } from './chain-store.ts';
import { checkContractTx } from './contract-transition.ts';
import type { EvidenceHistory } from './evidence-rules.ts';
import { buildGenesisBlock, type Genesis } from './genesis.ts';
import { CHAIN_MIGRATIONS } from './migrations.ts';
import { type Checkpoint, encodeTip, type TxLocation } from './records.ts';
import { runStateTransition, type StateTransitionInput } from './state-transition.ts';
import { createdCoins, revertUtxoChanges } from './utxo-changes.ts';
import { UtxoSet } from './utxo-set.ts';

/** Validated proposals kept for their commit; more than a few rounds at one height is an attack. */
const MAX_PROPOSAL_PLANS = 8;

export interface ChainOptions {
  /** Bytes the in-memory UTXO cache may use. */
  readonly utxoCacheBytes: number;
  /** State roots kept provable (docs/state.md); DEFAULT_RETAIN_ROOTS if omitted. */
  readonly stateRetainRoots?: number;
}

export interface ChainModules {
  readonly db: Database;
  readonly genesis: Genesis;
  readonly signatures: SignatureChecker;
  readonly logger: Logger;
  /** The local time a block's timestamp is checked against (default: the system clock). */
  readonly clock?: Clock;
  /** The contract engine blocks, the mempool and queries share (default: a new one). */
  readonly contracts?: ContractRuntime;
}

export interface ConnectResult {
  readonly height: number;
  readonly hash: Uint8Array;
  readonly txCount: number;
  readonly fees: bigint;
  readonly durationMs: number;
  /**
   * Gas the block's contract work used, and the events of its successful
   * calls in block order (always set by connectBlock; optional for stand-ins).
   */
  readonly gasUsed?: number;
  readonly contractEvents?: readonly BlockContractEvent[];
}

/**
 * The validated chain on disk: tip, blocks, UTXO set, undo data, commit
 * certificates and checkpoints. Blocks are final when they arrive (BFT), so
 * the chain only grows, except when an operator rolls it back on purpose.
 *
 * Every connect is one atomic batch; the in-memory tip and cache change only
 * after that batch is on disk. A process killed at any point therefore opens
 * at the last block whose batch was written, complete and consistent.
 */
export class Chain {
  readonly params: ConsensusParams;
  readonly genesis: Genesis;
  readonly genesisHash: Uint8Array;
  readonly chainIdHash: Uint8Array;
  readonly utxos: UtxoSet;
  /** The authenticated state behind header.stateRoot (registry, stake, validator sets). */
  readonly state: StateStore;
  /** The storage layout, one typed repository per bucket. */
  readonly store: ChainStore;
  /** The contract engine: warm sandbox and compiled code by code hash. */
  readonly contracts: ContractRuntime;
  private readonly db: Database;
  private readonly signatures: SignatureChecker;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private tipState: TipState;
  private tipHeader: Header;
  /**
   * Every validator-set change, oldest first: the set that signs from
   * `height` on. A node-local index (not consensus state, which keeps only
   * tip-1 .. tip+2) so the engine can replay proposer priorities from
   * genesis and callers can ask for any height's set without I/O.
   */
  private setHistory: { height: number; set: ValidatorSet }[];
  /** Proposals validated on the tip they were built on, by block hash (a few rounds' worth). */
  private readonly proposalPlans = new Map<string, { tipHash: Uint8Array; plan: ProposalPlan }>();

  private constructor(
    modules: ChainModules & {
      utxos: UtxoSet;
      genesisHash: Uint8Array;
      state: StateStore;
      setHistory: { height: number; set: ValidatorSet }[];
    },
    tip: { state: TipState; header: Header },
  ) {
    this.db = modules.db;
    this.store = new ChainStore(modules.db);
    this.genesis = modules.genesis;
    this.params = modules.genesis.params;
    this.state = modules.state;
    this.setHistory = modules.setHistory;
    this.chainIdHash = chainIdHash(modules.genesis.chainId);
    this.genesisHash = modules.genesisHash;
    this.signatures = modules.signatures;
    this.logger = modules.logger;
    this.clock = modules.clock ?? systemClock;
    this.contracts = modules.contracts ?? new ContractRuntime();
    this.utxos = modules.utxos;
    this.tipState = tip.state;
    this.tipHeader = tip.header;
  }

  /** Opens the chain in `db`, writing the genesis block first if the database is new. */
  static async init(opts: ChainOptions, modules: ChainModules): Promise<Chain> {
    const { db, genesis } = modules;
    const { block: genesisBlock, utxoState: genesisUtxos } = await buildGenesisBlock(genesis);
    const utxos = new UtxoSet({ cacheBytes: opts.utxoCacheBytes }, { db });
    const state = await StateStore.open(
      { retainRoots: opts.stateRetainRoots ?? DEFAULT_RETAIN_ROOTS },
      { db },
    );
    const storedGenesis = await db.get(metaKey('genesis'));
    if (storedGenesis === undefined) {
      await writeGenesis(db, genesisBlock, genesisUtxos, genesis, state);
      modules.logger.info(
        { hash: toHex(genesisBlock.hash), chainId: genesis.chainId },
        'wrote genesis block',
      );
    } else if (!bytesEqual(storedGenesis, genesisBlock.hash)) {
      throw new DatabaseError(
        'DB_SCHEMA_MISMATCH',
        db.path,
        `database ${db.path} belongs to another chain (genesis ${toHex(storedGenesis)}, expected ${toHex(genesisBlock.hash)})`,
      );
    }
    await migrateDatabase(
      db,
      { target: SCHEMA_VERSION, migrations: CHAIN_MIGRATIONS },
      { logger: modules.logger },
    );
    const tip = await loadTip(db);
    if (state.height !== tip.state.height || !bytesEqual(state.root, tip.header.stateRoot)) {
      throw new DatabaseError(
        'DB_CORRUPT',
        db.path,
        `database ${db.path} is corrupted: the state store is at ${state.height}, not at the tip ${tip.state.height} and its stateRoot`,
      );
    }
    const setHistory = await loadSetHistory(db);
    return new Chain({ ...modules, utxos, genesisHash: genesisBlock.hash, state, setHistory }, tip);
  }

  get tip(): { readonly height: number; readonly hash: Uint8Array; readonly header: Header } {
    return { height: this.tipState.height, hash: this.tipState.hash, header: this.tipHeader };
  }

  get tipHeight(): number {
    return this.tipState.height;
  }

  /** The UTXO state at the tip; callers get a copy. */
  utxoStateAtTip(): MuHash3072 {
    return this.tipState.utxoState.clone();
  }

  /** The state store as block validation sees it: prepare gives the block-batch operations. */
  private get stateSource(): BlockStateSource {
    const state = this.state;
    return {
      reader: state,
      prepare: async (overlay, height) => {
        const update = await state.prepare(overlay, height);
        return { root: update.root, update };
      },
    };
  }

  blockContext(now: number | null): BlockContext {
    return {
      params: this.params,
      chainIdHash: this.chainIdHash,
      genesisHash: this.genesisHash,
      state: this.stateSource,
      tip: this.tipState,
      coins: this.utxos,
      signatures: this.signatures,
      now,
      contracts: this.contracts,
      evidenceHistory: this.evidenceHistory,
    };
  }

  /** Past sets (node-local history) and stored block times, for the evidence rules. */
  get evidenceHistory(): EvidenceHistory {
    return {
      validatorsAt: (height) => this.validatorsAt(height),
      blockTimeAt: async (height) => (await this.getBlockAt(height))?.header.time,
    };
  }

  /**
   * The validator set that signs block `height`: chosen by block height - 2
   * (docs/staking.md). Known up to tip + 2; above that, the latest known.
   */
  validatorsAt(height: number): ValidatorSet {
    let found = this.setHistory[0]!.set;
    for (const entry of this.setHistory) {
      if (entry.height > height) break;
      found = entry.set;
    }
    return found;
  }

  /** The set that signs the next block (tip + 1). */
  get validators(): ValidatorSet {
    return this.validatorsAt(this.tipState.height + 1);
  }

  /**
   * The staking rules of one transaction against the tip's state, as if in
   * the next block at `timeMs` (raised to after the tip), on a fork that is
   * thrown away: the mempool's admission check.
   */
  async checkStakingTx(tx: Transaction, timeMs: number): Promise<TxStakingEffect> {
    if (tx.payload === null) return { valueIn: 0n, valueOut: 0n };
    const staking = new StakingBlock(new StateOverlay(this.state), {
      params: this.params.staking,
      height: this.tipState.height + 1,
      timeMs: Math.max(timeMs, this.tipState.time + 1),
      chainIdHash: this.chainIdHash,
    });
    return staking.applyTx(tx.payload, tx.witnesses[0]?.publicKey ?? null);
  }

  /**
   * The contract work of one transaction (`spent`: its input coins) against
   * the tip's state, as if in the next block at `timeMs`, on a fork that is
   * thrown away: the mempool's admission check. Null when it has none.
   */
  checkContractTx(
    tx: Transaction,
    spent: readonly Coin[],
    timeMs: number,
  ): Promise<ContractTxResult | null> {
    return checkContractTx(this.state, tx, spent, {
      height: this.tipState.height + 1,
      time: Math.max(timeMs, this.tipState.time + 1),
      params: this.params,
      contracts: this.contracts,
    });
  }

  /**
   * The state root after a block with these contents on the tip, for the
   * block assembler. With `dropInvalid`, staking and contract transactions
   * that break a rule (and whatever spends their outputs) are left out and
   * reported.
   */
  async previewState(
    input: Omit<StateTransitionInput, 'spentByTx'>,
    opts: { dropInvalid?: boolean } = {},
  ): Promise<{
    root: Uint8Array;
    dropped: ReadonlySet<number>;
    droppedEvidence: ReadonlySet<number>;
    effects: ReadonlyMap<number, { valueIn: bigint; valueOut: bigint }>;
  }> {
    const { spentByTx } = await resolveUtxoChanges(input.txs, input.height, this.utxos);
    const transition = await runStateTransition(this.state, { ...input, spentByTx }, this, opts);
    const update = await this.state.prepare(transition.overlay, input.height);
    return {
      root: update.root,
      dropped: transition.dropped,
      droppedEvidence: transition.droppedEvidence,
      effects: transition.effects,
    };
  }

  /**
   * Checks every rule of a proposed block on top of the tip except its own
   * commit (a validator prevotes only for a block that passes), and keeps the
   * plan: when the block is then committed on the same tip, `connectBlock`
   * checks only the commit certificate. Throws the rule's VerificationError.
   */
  async validateProposal(block: Block, options: { now?: number | null } = {}): Promise<void> {
    const tipHash = this.tipState.hash;
    const plan = await planProposal(
      block,
      this.blockContext(options.now === undefined ? this.clock.now() : options.now),
    );
    // The tip may have moved while signatures were checked: such a plan is stale.
    if (!bytesEqual(tipHash, this.tipState.hash)) return;
    if (this.proposalPlans.size >= MAX_PROPOSAL_PLANS) this.proposalPlans.clear();
    this.proposalPlans.set(bytesKey(block.hash), { tipHash, plan });
  }

  /** Validates `block` (final by `commit`) on top of the tip and commits it atomically. */
  async connectBlock(
    block: Block,
    commit: CommitCertificate,
    options: { now?: number | null } = {},
  ): Promise<ConnectResult> {
    const started = performance.now();
    const ctx = this.blockContext(options.now === undefined ? this.clock.now() : options.now);
    const validated = this.proposalPlans.get(bytesKey(block.hash));
    this.proposalPlans.clear();
    const plan =
      validated !== undefined && bytesEqual(validated.tipHash, this.tipState.hash)
        ? await certifyProposal(validated.plan, commit, {
            validators: this.validatorsAt(block.height),
            chainIdHash: this.chainIdHash,
            signatures: this.signatures,
          })
        : await planBlockConnect(block, commit, ctx);
    await this.commitPlan(plan);
    const result = {
      height: block.height,
      hash: block.hash,
      txCount: block.txs.length,
      fees: plan.fees,
      durationMs: performance.now() - started,
      gasUsed: plan.contracts.gasUsed,
      contractEvents: plan.contracts.events,
    };
    return result;
  }

  private async commitPlan(plan: ConnectPlan): Promise<void> {
    const { block, spent, created } = plan;
    const height = block.height;
    const spentKeys = spent.map((s) => s.key);
    if (plan.state === null) throw new RangeError('a connect plan without state writes');
    const ops = blockWriteOps(this.store, plan, this.params.checkpointInterval);
    ops.push(...plan.state.ops);
    const change = this.setChangeOf(plan.scheduledSet, height);
    if (change !== null) ops.push(change.op);
    await this.db.write(ops);
    this.state.applyCommitted(plan.state);
    if (change !== null) this.setHistory.push(change.entry);
    this.utxos.applyCommitted(spentKeys, created);
    this.tipState = {
      height,
      hash: block.hash,
      time: block.header.time,
      utxoState: plan.utxoState,
    };
    this.tipHeader = block.header;
  }

  /**
   * Undoes the tip block in one batch, restoring the coins it spent from its
   * undo data. Final blocks are never reorganised by consensus: this is the
   * operator's `utxod rollback`, for recovering from a local fault.
   */
  async disconnectTip(): Promise<void> {
    const height = this.tipState.height;
    if (height === 0)
      throw new DatabaseError('DB_IO', this.db.path, 'cannot roll back the genesis block');
    const block = await this.requireBlockAt(height);
    const spent = await this.store.undo.get(height);
    if (spent === undefined) throw this.corrupt(`undo data of block ${height} is missing`);
    const parent = await this.requireBlockAt(height - 1);

    const created = createdCoins(block.txs, height);
    const utxoState = revertUtxoChanges(this.tipState.utxoState, { spent, created });
    if (!bytesEqual(utxoState.finalize(), parent.header.utxoRoot)) {
      throw this.corrupt(
        `undo data of block ${height} does not restore the UTXO set of block ${height - 1}`,
      );
    }
    const stateRollback = await this.state.prepareRollback();
    if (!bytesEqual(stateRollback.root, parent.header.stateRoot)) {
      throw this.corrupt(
        `state undo of block ${height} does not restore the state root of block ${height - 1}`,
      );
    }
    const createdKeys = created.map((c) => c.key);
    const ops: BatchOp[] = UtxoSet.batchOps(createdKeys, spent);
    ops.push(...stateRollback.ops, { type: 'del', key: setHistoryKey(height + 2) });
    ops.push(...addressIndexOps(block, { spent, created }, spentLocksOf(block, spent), true));
    const { store } = this;
    ops.push(
      store.blocks.delOp(block.hash),
      store.hashes.delOp(height),
      store.undo.delOp(height),
      store.commits.delOp(height),
      store.checkpoints.delOp(height),
    );
    for (const tx of block.txs) ops.push(store.txIndex.delOp(tx.txid));
    const serialized = utxoState.serialize();
    ops.push({
      type: 'put',
      key: metaKey('tip'),
      value: encodeTip({ height: height - 1, hash: parent.hash, utxoState: serialized }),
    });
    await this.db.write(ops);
    this.state.applyRolledBack(stateRollback);
    this.setHistory = this.setHistory.filter((e) => e.height < height + 2);
    this.utxos.applyCommitted(createdKeys, spent);
    this.tipState = { height: height - 1, hash: parent.hash, time: parent.header.time, utxoState };
    this.tipHeader = parent.header;
  }

  /**
   * The lowest height whose block this database holds: 0, or the height a
   * snapshot started it at (snapshot/rebuild.ts writes the record).
   */
  async earliestHeight(): Promise<number> {
    const raw = await this.db.get(metaKey('earliest'));
    return raw === undefined ? 0 : new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false);
  }

  /**
   * The history entry if block `height` scheduled another set for height + 2
   * than the one signing height + 1. the set of height + 2: read
   * from the block's own state writes, over the committed state.
   */
  private setChangeOf(
    scheduled: ValidatorSet,
    height: number,
  ): { op: BatchOp; entry: { height: number; set: ValidatorSet } } | null {
    if (bytesEqual(scheduled.hash, this.validatorsAt(height + 1).hash)) return null;
    const entry = { height: height + 2, set: scheduled };
    return {
      op: { type: 'put', key: setHistoryKey(entry.height), value: encodeHistorySet(scheduled) },
      entry,
    };
  }

  async getCoins(outpoints: readonly Outpoint[]): Promise<Array<Coin | undefined>> {
    const raw = await this.utxos.getCoins(outpoints.map(outpointKey));
    return raw.map((bytes) => (bytes === undefined ? undefined : decodeCoin(bytes)));
  }

  async getHashAt(height: number): Promise<Uint8Array | undefined> {
    if (height > this.tipState.height) return undefined;
    return this.store.hashes.get(height);
  }

  async getBlockByHash(hash: Uint8Array): Promise<Block | undefined> {
    return this.store.blocks.get(hash);
  }

  async getBlockAt(height: number): Promise<Block | undefined> {
    const hash = await this.getHashAt(height);
    return hash === undefined ? undefined : this.getBlockByHash(hash);
  }

  /** The certificate that made block `height` final (genesis has the empty one). */
  async getCommitAt(height: number): Promise<CommitCertificate | undefined> {
    return this.store.commits.get(height);
  }

  async requireCommitAt(height: number): Promise<CommitCertificate> {
    const commit = await this.getCommitAt(height);
    if (commit === undefined)
      throw this.corrupt(`commit certificate of block ${height} is missing`);
    return commit;
  }

  /**
   * Unspent coins paid to `lockHash`, in outpoint order, `limit` at a time;
   * pass the last outpoint key of a page as `after` for the next.
   */
  async addressCoins(
    lockHash: Uint8Array,
    page: { limit: number; after?: Uint8Array },
  ): Promise<Array<{ outpoint: Outpoint; coin: Coin }>> {
    const start =
      page.after === undefined
        ? addressCoinKey(lockHash, new Uint8Array(0))
        : addressCoinKey(lockHash, page.after);
    const end = bucketKey(
      Bucket.addressCoin,
      lockHash,
      new Uint8Array(36).fill(0xff),
      Uint8Array.of(0xff),
    );
    const keys: Uint8Array[] = [];
    for await (const [key] of this.db.range(start, end, { limit: page.limit + 1 })) {
      const outpoint = outpointKeyFromAddressCoinKey(key);
      if (page.after !== undefined && bytesEqual(outpoint, page.after)) continue;
      if (keys.length < page.limit) keys.push(new Uint8Array(outpoint));
    }
    const coins = await this.utxos.getCoins(keys);
    return keys.map((key, i) => {
      const coin = coins[i];
      if (coin === undefined)
        throw this.corrupt(`address index lists a coin that is not in the UTXO set`);
      return { outpoint: outpointFromKey(key), coin: decodeCoin(coin) };
    });
  }

  /** Transactions that paid or spent from `lockHash`, newest first, below `beforeHeight` if given. */
  async addressHistory(
    lockHash: Uint8Array,
    page: { limit: number; beforeHeight?: number },
  ): Promise<Array<{ txid: Uint8Array; height: number; position: number }>> {
    const start = bucketKey(Bucket.addressTx, lockHash);
    const end = addressTxKey(lockHash, Math.min(page.beforeHeight ?? 0xffffffff, 0xffffffff), 0);
    const result: Array<{ txid: Uint8Array; height: number; position: number }> = [];
    for await (const [key, txid] of this.db.range(start, end, {
      reverse: true,
      limit: page.limit,
    })) {
      const view = new DataView(key.buffer, key.byteOffset, key.byteLength);
      result.push({ txid, height: view.getUint32(33, false), position: view.getUint32(37, false) });
    }
    return result;
  }

  async getTxLocation(txid: Uint8Array): Promise<TxLocation | undefined> {
    return this.store.txIndex.get(txid);
  }

  async getTransaction(
    txid: Uint8Array,
  ): Promise<{ tx: Transaction; location: TxLocation } | undefined> {
    const location = await this.getTxLocation(txid);
    if (location === undefined) return undefined;
    const block = await this.requireBlockAt(location.height);
    const tx = block.txs[location.index];
    if (tx === undefined || !bytesEqual(tx.txid, txid))
      throw this.corrupt(`tx index entry for ${toHex(txid)} is wrong`);
    return { tx, location };
  }

  /** Checkpoints at or below `maxHeight`, newest first. */
  async *checkpoints(maxHeight = this.tipState.height): AsyncGenerator<Checkpoint> {
    for await (const [, checkpoint] of this.store.checkpoints.entries({
      from: 0,
      to: maxHeight + 1,
      reverse: true,
    })) {
      yield checkpoint;
    }
  }

  async requireBlockAt(height: number): Promise<Block> {
    let block: Block | undefined;
    try {
      block = await this.getBlockAt(height);
    } catch (error) {
      throw this.corrupt(`block ${height} does not decode: ${asError(error).message}`);
    }
    if (block === undefined) throw this.corrupt(`block ${height} is missing`);
    if (block.height !== height)
      throw this.corrupt(`block stored at height ${height} says height ${block.height}`);
    return block;
  }

  private corrupt(what: string): DatabaseError {
    this.logger.error({ path: this.db.path, problem: what }, 'database corruption detected');
    return new DatabaseError(
      'DB_CORRUPT',
      this.db.path,
      `database ${this.db.path} is corrupted: ${what}`,
    );
  }
}
