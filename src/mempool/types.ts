/** The shapes the mempool shows to the node, the API and p2p. */
import type { ConsensusParams, SignatureChecker, TxStakingEffect } from '../consensus/index.ts';
import type { Coin, Outpoint, Transaction } from '../primitives/index.ts';
import type { Clock } from '../util/index.ts';
import type { ContractTxResult } from '../vm/index.ts';

/** All the mempool needs from the chain. */
export interface MempoolChainView {
  /** Height of the current tip; admitted transactions are checked for inclusion at tipHeight + 1. */
  readonly tipHeight: number;
  /** Unspent coins of the chain (not the mempool) for these outpoints, undefined where none. */
  getCoins(outpoints: readonly Outpoint[]): Promise<Array<Coin | undefined>>;
  /**
   * The staking rules of `tx` against the tip's state, on a throw-away fork,
   * as if in the next block at `timeMs`: the value it moves, or the STAKE_*
   * VerificationError of the rule it breaks. Without it, the pool declines
   * staking transactions (MEMPOOL_NONSTANDARD).
   */
  checkStakingTx?(tx: Transaction, timeMs: number): Promise<TxStakingEffect>;
  /**
   * The contract work of `tx` (`spent`: its input coins) against the tip's
   * state on a throw-away fork: its result (a failed call is one), or the
   * CONTRACT_* VerificationError of the rule it breaks. Without it, the pool
   * declines contract transactions (MEMPOOL_NONSTANDARD).
   */
  checkContractTx?(
    tx: Transaction,
    spent: readonly Coin[],
    timeMs: number,
  ): Promise<ContractTxResult | null>;
}

export interface MempoolModules {
  readonly params: ConsensusParams;
  readonly chainIdHash: Uint8Array;
  readonly chain: MempoolChainView;
  readonly signatures: SignatureChecker;
  /** Injectable so tests control expiry (default: the system clock). */
  readonly clock?: Pick<Clock, 'now'>;
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
  /** Of those dropped: a sender's own oldest, because it held its share (maxOrphansPerSource). */
  readonly orphansSourceLimited: number;
  /** Senders holding orphans now. */
  readonly orphanSources: number;
}

/** Where an admitted transaction came from: relay decisions depend on it. */
export type TxOrigin = 'local' | 'peer';

export interface MempoolEvents {
  /**
   * A transaction entered the pool. `orphan`: it was waiting for a parent that
   * just arrived. For observers only (relay, streams, metrics).
   */
  accepted: [{ readonly tx: Transaction; readonly origin: TxOrigin | 'orphan' }];
}
