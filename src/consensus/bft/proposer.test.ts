import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidatorSet } from '../validator-set.ts';
import { ProposerPriorities } from './proposer.ts';

/** A 33-byte key that sorts by `n`, so validator indexes are predictable. */
function key(n: number): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = 2;
  k[32] = n;
  return k;
}

function set(...powers: number[]): ValidatorSet {
  return new ValidatorSet(powers.map((p, i) => ({ publicKey: key(i + 1), power: BigInt(p) })));
}

describe('proposer priority (CometBFT weighted round robin)', () => {
  // Powers A=1 B=2 C=3, total 6. Genesis: all at -6, centred to 0.
  // round 0: +power [1,2,3] -> C, -6 -> [1,2,-3]
  // round 1: [2,4,0] -> B -> [2,-2,0]
  // round 2: [3,0,3] -> tie A/C, lower key A -> [-3,0,3]
  // round 3: [-2,2,6] -> C -> [-2,2,0]
  // round 4: [-1,4,3] -> B -> [-1,-2,3]
  // round 5: [0,0,6] -> C -> [0,0,0], and the cycle repeats.
  it('follows the hand-computed sequence over rounds, power-proportionally', () => {
    const p = ProposerPriorities.genesis(set(1, 2, 3));
    assert.deepEqual(p.priorities, [1n, 2n, -3n]);
    const seq = [0, 1, 2, 3, 4, 5, 6, 7].map((r) => p.proposerAt(r));
    assert.deepEqual(seq, [2, 1, 0, 2, 1, 2, 2, 1]);
  });

  it('moves to the next height with one increment', () => {
    const h1 = ProposerPriorities.genesis(set(1, 2, 3));
    const h2 = h1.next(set(1, 2, 3));
    assert.equal(h2.proposer, 1);
    assert.deepEqual(h2.priorities, [2n, -2n, 0n]);
    assert.equal(h2.next(set(1, 2, 3)).proposer, 0);
  });

  it('starts a new validator at -1.125 x total power, centred with the floor of the mean', () => {
    // [1,2,-3] + D(4): total before removals 10, newcomer -(10 + 10>>3) = -11.
    // sum -11, n 4: Euclidean mean -3 -> [4,5,0,-8]; +power [5,7,3,-4] -> B -> [5,-3,3,-4].
    const h1 = ProposerPriorities.genesis(set(1, 2, 3));
    const h2 = h1.next(set(1, 2, 3, 4));
    assert.equal(h2.proposer, 1);
    assert.deepEqual(h2.priorities, [5n, -3n, 3n, -4n]);
  });

  it('rescales priorities spread wider than 2 x total power, truncating like Go', () => {
    // diff 201 > window 4: ratio ceil(201/4)=51; 101/51=1, -100/51=-1 (truncated).
    // centred [1,-1]; +power [2,0] -> A -> [0,0]. Flooring would give [1,0].
    const p = ProposerPriorities.fromRaw(set(1, 1), [101n, -100n]).increment(1);
    assert.equal(p.proposer, 0);
    assert.deepEqual(p.priorities, [0n, 0n]);
  });

  it('drops a removed validator and keeps the others priorities', () => {
    const h1 = ProposerPriorities.genesis(set(1, 2, 3)); // [1,2,-3]
    const only = new ValidatorSet([
      { publicKey: key(1), power: 1n },
      { publicKey: key(3), power: 3n },
    ]);
    // start [1,-3], total 4, sum -2 -> mean -1 -> [2,-2]; +power [3,1] -> A -> [-1,1]
    const h2 = h1.next(only);
    assert.equal(h2.proposer, 0);
    assert.deepEqual(h2.priorities, [-1n, 1n]);
  });

  it('gives each validator its share of rounds over a long run', () => {
    const p = ProposerPriorities.genesis(set(5, 1, 3, 1));
    const counts = [0, 0, 0, 0];
    for (let r = 0; r < 1000; r++) counts[p.proposerAt(r)]! += 1;
    assert.deepEqual(counts, [500, 100, 300, 100]);
  });
});
