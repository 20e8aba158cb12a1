/**
 * The contract part of a block's state transition: a ContractBlock over the
 * block's state overlay, its rule errors raised as VerificationErrors. Kept
 * out of state-transition.ts so the staking and contract paths stay apart.
 */
import { asVerificationError, type ConsensusParams } from '../consensus/index.ts';
import { NETWORK_HRP } from '../crypto/index.ts';
import type { Coin, Transaction } from '../primitives/index.ts';
import { StateOverlay, type StateReader } from '../state/index.ts';
import {
  type BlockContractEvent,
  ContractBlock,
  type ContractRuntime,
  type ContractTxResult,
} from '../vm/index.ts';

/** What a block's contract work produced, for the chain and its observers. */
export interface BlockContractSummary {
  /** Per transaction index with contract work: its result. */
  readonly results: ReadonlyMap<number, ContractTxResult>;
  readonly gasReserved: number;
  readonly gasUsed: number;
  readonly events: readonly BlockContractEvent[];
}

export class ContractTransition {
  private readonly block: ContractBlock;
  private readonly results = new Map<number, ContractTxResult>();

  constructor(
    overlay: StateOverlay,
    input: { readonly height: number; readonly time: number },
    ctx: { readonly params: ConsensusParams; readonly contracts: ContractRuntime },
  ) {
    this.block = new ContractBlock(
      {
        height: input.height,
        time: input.time,
        hrp: NETWORK_HRP[ctx.params.network],
        params: ctx.params.contracts,
      },
      { overlay, runtime: ctx.contracts },
    );
  }

  /**
   * Runs the contract work of transaction `index` (spend rules, deploy or
   * call). A broken contract rule throws its VerificationError and leaves no
   * write; ContractEngineError (a safety net fired) propagates unchanged, so
   * the block is neither accepted nor marked invalid.
   */
  async apply(index: number, tx: Transaction, spent: readonly Coin[]): Promise<void> {
    let result: ContractTxResult | null;
    try {
      result = await this.block.applyTx(tx, spent);
    } catch (error) {
      throw asVerificationError(error, tx);
    }
    if (result !== null) this.results.set(index, result);
  }

  summary(): BlockContractSummary {
    return {
      results: this.results,
      gasReserved: this.block.gasReserved,
      gasUsed: this.block.gasUsed,
      events: this.block.events,
    };
  }
}

/**
 * The contract work of `tx` alone on a throw-away overlay over `state` (the
 * mempool's admission check): its rule errors as VerificationErrors, a failed
 * call as a result with `outcome.ok === false`.
 */
export async function checkContractTx(
  state: StateReader,
  tx: Transaction,
  spent: readonly Coin[],
  ctx: {
    readonly height: number;
    readonly time: number;
    readonly params: ConsensusParams;
    readonly contracts: ContractRuntime;
  },
): Promise<ContractTxResult | null> {
  const transition = new ContractTransition(new StateOverlay(state), ctx, ctx);
  await transition.apply(0, tx, spent);
  return transition.summary().results.get(0) ?? null;
}
