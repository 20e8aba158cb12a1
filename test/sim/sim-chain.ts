/**
 * The simulated chain's state beyond the blocks themselves: duplicate-vote
 * evidence carried in blocks, the validators it tombstones, and the validator
 * set of every height. It follows the real chain's rules (docs/staking.md,
 * "Evidence"): a block of height H may carry evidence of heights below H, of
 * a validator of that height's set that is not tombstoned yet, each
 * equivocation once; committing it tombstones the validator, who leaves the
 * set at H + 2. Slashing amounts and stake are not modelled: removal from the
 * set is what the engine sees.
 */

import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import type { VoteType } from '../../src/primitives/commit.ts';

/** One equivocation: two votes of `node` for one height, round and type. */
export interface SimEvidence {
  /** The equivocating node (its key), not a set index: indexes move when the set changes. */
  readonly node: number;
  readonly height: number;
  readonly round: number;
  readonly type: VoteType;
}

export function evidenceSlot(e: SimEvidence): string {
  return `${e.node}/${e.height}/${e.round}/${e.type}`;
}

/** Pieces of evidence a block carries at most (the real bound is in bytes). */
export const MAX_BLOCK_EVIDENCE = 2;

/** What the chain needs of a block: its height and the evidence it carries. */
export interface EvidenceCarrier {
  readonly height: number;
  readonly evidence: readonly SimEvidence[];
}

export class SimChain {
  private readonly genesis: ValidatorSet;
  private readonly keys: readonly Uint8Array[];
  /** Final blocks by height, whichever node committed them first (agreement is checked elsewhere). */
  private readonly blocks = new Map<number, EvidenceCarrier>();
  /** Slot -> the height of the block that committed it. */
  private readonly committedSlots = new Map<string, number>();
  /** Node -> the height of the block whose evidence tombstoned it. */
  private readonly tombstonedAt = new Map<number, number>();
  private readonly sets = new Map<number, ValidatorSet>();
  /** Equivocations that really happened: the simulation's stand-in for signature checks. */
  readonly genuine = new Set<string>();

  constructor(genesis: ValidatorSet, keys: readonly Uint8Array[]) {
    this.genesis = genesis;
    this.keys = keys;
  }

  get height(): number {
    return this.blocks.size;
  }

  get committedEvidence(): number {
    return this.committedSlots.size;
  }

  get tombstoned(): number {
    return this.tombstonedAt.size;
  }

  /** The node holding `publicKey` (keys are fixed per node). */
  nodeOf(publicKey: Uint8Array): number {
    return this.keys.findIndex((k) => k.every((b, i) => b === publicKey[i]));
  }

  /** A block became final. Heights arrive in order: a node commits H only after H - 1. */
  add(block: EvidenceCarrier): void {
    if (this.blocks.has(block.height)) return;
    if (block.height !== this.blocks.size + 1) {
      throw new Error(`final block ${block.height} arrived after ${this.blocks.size}`);
    }
    this.blocks.set(block.height, block);
    for (const e of block.evidence) {
      this.committedSlots.set(evidenceSlot(e), block.height);
      if (!this.tombstonedAt.has(e.node)) this.tombstonedAt.set(e.node, block.height);
    }
  }

  /** Whether `node` was tombstoned by a block at or below `height`. */
  tombstonedBy(node: number, height: number): boolean {
    const at = this.tombstonedAt.get(node);
    return at !== undefined && at <= height;
  }

  /** Settled: committed, or its validator already tombstoned for another one (punished once). */
  settled(slot: string, node: number): boolean {
    return this.committedSlots.has(slot) || this.tombstonedAt.has(node);
  }

  /** The set of `height`: genesis without the validators tombstoned by blocks up to height - 2. */
  setAt(height: number): ValidatorSet {
    if (height <= 2) return this.genesis;
    const known = this.sets.get(height);
    if (known !== undefined) return known;
    if (this.blocks.size < height - 2)
      throw new Error(`set of ${height} asked before block ${height - 2}`);
    const set = new ValidatorSet(
      this.genesis.validators.filter(
        (v) => !this.tombstonedBy(this.nodeOf(v.publicKey), height - 2),
      ),
    );
    this.sets.set(height, set);
    return set;
  }

  /**
   * Why `e` cannot go into a block of `height` after the evidence `before` it
   * in that block, or null if it can. The rules of src/chain/evidence-rules.ts.
   */
  refusal(e: SimEvidence, height: number, before: readonly SimEvidence[] = []): string | null {
    const slot = evidenceSlot(e);
    if (!this.genuine.has(slot)) return 'not an equivocation';
    if (e.height < 1 || e.height >= height) return 'from the future';
    if (this.setAt(e.height).indexOf(this.keys[e.node]!) === -1) return 'unknown validator';
    const committed = this.committedSlots.get(slot);
    if (committed !== undefined && committed < height) return 'duplicate';
    if (before.some((x) => evidenceSlot(x) === slot)) return 'duplicate';
    if (this.tombstonedBy(e.node, height - 1) || before.some((x) => x.node === e.node)) {
      return 'already tombstoned';
    }
    return null;
  }

  /** Why a block of `height` carrying `evidence` is invalid, or null. */
  blockRefusal(block: EvidenceCarrier): string | null {
    if (block.evidence.length > MAX_BLOCK_EVIDENCE) return 'too much evidence';
    for (const [i, e] of block.evidence.entries()) {
      const why = this.refusal(e, block.height, block.evidence.slice(0, i));
      if (why !== null) return `evidence ${evidenceSlot(e)}: ${why}`;
    }
    return null;
  }
}
