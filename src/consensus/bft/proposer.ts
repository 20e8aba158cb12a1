import { bytesEqual } from '../../util/index.ts';
import type { ValidatorSet } from '../validator-set.ts';

/**
 * CometBFT's weighted round-robin proposer selection (types/validator_set.go),
 * in bigint so no clipping is needed. Every increment adds each validator's
 * power to its priority and takes the total power off the one with the
 * highest priority, who proposes; so over T increments a validator proposes
 * power/total of the time, spread evenly. Before each batch of increments the
 * priorities are rescaled into a window of 2 x total power and centred on 0,
 * so a validator that sat out (or a huge newcomer) cannot dominate for long.
 * A new validator starts at -1.125 x total power: it cannot propose at once
 * and gain by leaving and rejoining.
 */
export const PRIORITY_WINDOW_SIZE_FACTOR = 2n;

export class ProposerPriorities {
  readonly set: ValidatorSet;
  /** Parallel to `set.validators` (sorted by public key). */
  readonly priorities: readonly bigint[];
  /** Index of the validator picked by the last increment: the proposer of round 0 of this height. */
  readonly proposer: number;
  private readonly byRound: number[];
  private cursor: readonly bigint[];

  private constructor(set: ValidatorSet, priorities: readonly bigint[], proposer: number) {
    this.set = set;
    this.priorities = priorities;
    this.proposer = proposer;
    this.byRound = [proposer];
    this.cursor = priorities;
  }

  /**
   * The priorities for the first height of a chain: every validator enters as
   * new (all at the same priority, so centring puts them at 0), then one increment.
   */
  static genesis(set: ValidatorSet): ProposerPriorities {
    const start = set.validators.map(() => -newcomerPriority(set.totalPower));
    return ProposerPriorities.fromRaw(set, rescaleAndCenter(start, set.totalPower)).increment(1);
  }

  /** Priorities stored or sent elsewhere (a snapshot); `proposer` is recomputed as the maximum. */
  static fromRaw(set: ValidatorSet, priorities: readonly bigint[]): ProposerPriorities {
    if (priorities.length !== set.validators.length) {
      throw new RangeError('one priority per validator');
    }
    return new ProposerPriorities(set, priorities, mostPriority(set, priorities));
  }

  /** `times` rounds of the weighted round robin; `proposer` is the last one picked. */
  increment(times: number): ProposerPriorities {
    if (!Number.isSafeInteger(times) || times < 1) throw new RangeError('times must be >= 1');
    const total = this.set.totalPower;
    let p = rescaleAndCenter(this.priorities, total);
    let proposer = -1;
    for (let i = 0; i < times; i++) [p, proposer] = incrementOnce(this.set, p);
    return new ProposerPriorities(this.set, p, proposer);
  }

  /**
   * The proposer of `round` at this height: round 0 is `proposer`, each later
   * round one more increment (as CometBFT increments on every round change).
   * Each round is its own IncrementProposerPriority(1) (rescale, centre, one
   * step), so the answer does not depend on which rounds a node skipped:
   * CometBFT increments by the skipped distance in one call, which can differ
   * once a rescale kicks in; every node here agrees whatever its path.
   * Memoised: a round's proposer is computed once, in order.
   */
  proposerAt(round: number): number {
    if (!Number.isSafeInteger(round) || round < 0) throw new RangeError('bad round');
    while (this.byRound.length <= round) {
      const [p, proposer] = incrementOnce(
        this.set,
        rescaleAndCenter(this.cursor, this.set.totalPower),
      );
      this.cursor = p;
      this.byRound.push(proposer);
    }
    return this.byRound[round]!;
  }

  /**
   * The priorities of the next height when its validator set is `next`:
   * validators that stay keep their priority (at their new power), new ones
   * start at -1.125 x the total power counted before removals, then rescale,
   * centre and one increment.
   */
  next(next: ValidatorSet): ProposerPriorities {
    if (bytesEqual(next.hash, this.set.hash)) {
      return new ProposerPriorities(this.set, this.priorities, this.proposer).increment(1);
    }
    const old = this.set.validators;
    let totalBeforeRemovals = 0n;
    for (const v of old) {
      const updated = next.validators.find((n) => bytesEqual(n.publicKey, v.publicKey));
      totalBeforeRemovals += updated?.power ?? v.power;
    }
    for (const v of next.validators) {
      if (!old.some((o) => bytesEqual(o.publicKey, v.publicKey))) totalBeforeRemovals += v.power;
    }
    const start = next.validators.map((v) => {
      const i = old.findIndex((o) => bytesEqual(o.publicKey, v.publicKey));
      return i === -1 ? -newcomerPriority(totalBeforeRemovals) : this.priorities[i]!;
    });
    return ProposerPriorities.fromRaw(next, rescaleAndCenter(start, next.totalPower)).increment(1);
  }
}

/** total + total/8, as CometBFT's `tvp + (tvp >> 3)`. */
function newcomerPriority(total: bigint): bigint {
  return total + (total >> 3n);
}

function incrementOnce(set: ValidatorSet, priorities: readonly bigint[]): [bigint[], number] {
  const p = priorities.map((x, i) => x + set.validators[i]!.power);
  const winner = mostPriority(set, p);
  p[winner] = p[winner]! - set.totalPower;
  return [p, winner];
}

/** Highest priority wins; a tie goes to the smaller public key (the lower index). */
function mostPriority(set: ValidatorSet, priorities: readonly bigint[]): number {
  let best = 0;
  for (let i = 1; i < set.validators.length; i++) {
    if (priorities[i]! > priorities[best]!) best = i;
  }
  return best;
}

/** Go's int64 division truncates towards zero, as does bigint division. */
function rescaleAndCenter(priorities: readonly bigint[], total: bigint): bigint[] {
  const window = PRIORITY_WINDOW_SIZE_FACTOR * total;
  let max = priorities[0]!;
  let min = priorities[0]!;
  for (const x of priorities) {
    if (x > max) max = x;
    if (x < min) min = x;
  }
  const diff = max - min;
  let p = [...priorities];
  if (diff > window) {
    const ratio = (diff + window - 1n) / window;
    p = p.map((x) => x / ratio);
  }
  // big.Int.Div is Euclidean: for a positive divisor that is the floor.
  const sum = p.reduce((a, b) => a + b, 0n);
  const n = BigInt(p.length);
  let avg = sum / n;
  if (sum % n !== 0n && sum < 0n) avg -= 1n;
  return p.map((x) => x - avg);
}
