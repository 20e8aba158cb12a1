/**
 * What the contract and staking admissions share: a transaction of either
 * kind is checked against the tip's state on admission and stays tracked, so
 * that after each block the pool can re-check it, since a block can change
 * what a contract accepts or jail the validator a staking transaction acts on.
 */
import type { Clock } from '../util/index.ts';
import type { MempoolEntry } from './entry.ts';
import type { MempoolChainView } from './types.ts';

export interface AdmissionModules {
  chain: MempoolChainView;
  clock: Pick<Clock, 'now'>;
  /** The pool's entries by key. */
  entries: ReadonlyMap<string, MempoolEntry>;
}

/** The tracked entries (`pending`, keyed as the subclass needs) and what re-checks them. */
export abstract class PendingAdmissions<V> {
  protected readonly pending = new Map<string, V>();
  protected readonly chain: MempoolChainView;
  protected readonly clock: Pick<Clock, 'now'>;
  protected readonly entries: ReadonlyMap<string, MempoolEntry>;

  constructor(modules: AdmissionModules) {
    this.chain = modules.chain;
    this.clock = modules.clock;
    this.entries = modules.entries;
  }

  /** After a block: the tracked entries that no longer pass on the new state. */
  abstract stale(): Promise<MempoolEntry[]>;
}
