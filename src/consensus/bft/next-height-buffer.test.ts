import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProposalMessage, VoteMessage } from './messages.ts';
import { NextHeightBuffer } from './next-height-buffer.ts';

function vote(height: number, round: number, validatorIndex: number, fill = 1): VoteMessage {
  return {
    type: 1,
    height,
    round,
    blockHash: new Uint8Array(32).fill(fill),
    validatorIndex,
    signature: new Uint8Array(64).fill(validatorIndex + 16 * fill),
  };
}

function proposal(height: number, round: number, fill: number): ProposalMessage {
  return {
    height,
    round,
    polRound: 0xffffffff,
    // Only the fields the buffer reads matter here; the driver checks the rest on release.
    block: null as unknown as ProposalMessage['block'],
    proposerIndex: 0,
    signature: new Uint8Array(64).fill(fill),
  };
}

describe('next-height buffer', () => {
  it('keeps messages of one height, drops duplicates, and hands them over once', () => {
    const b = new NextHeightBuffer({ maxVotes: 10, maxProposals: 2, maxRound: 1 });
    assert.equal(b.holdVote('a', vote(5, 0, 1)), true);
    assert.equal(b.holdVote('b', vote(5, 0, 1)), false, 'the same vote from another peer');
    assert.equal(b.holdVote('a', vote(5, 1, 2)), true);
    assert.equal(b.holdProposal('a', proposal(5, 0, 7)), true);
    assert.equal(b.takeFor(4), null, 'not there yet: kept');
    const held = b.takeFor(5);
    assert.deepEqual(
      held?.votes.map((v) => [v.peerId, v.vote.round]),
      [
        ['a', 0],
        ['a', 1],
      ],
    );
    assert.equal(held?.proposals.length, 1);
    assert.equal(b.takeFor(5), null, 'handed over once');
  });

  it('is bounded: first come, early rounds only', () => {
    const b = new NextHeightBuffer({ maxVotes: 3, maxProposals: 1, maxRound: 1 });
    for (let i = 0; i < 10; i++) b.holdVote('flood', vote(9, 0, i));
    assert.equal(b.holdVote('late', vote(9, 2, 0)), false, 'round 2 is not a new height’s');
    assert.equal(b.holdProposal('a', proposal(9, 0, 1)), true);
    assert.equal(b.holdProposal('a', proposal(9, 0, 2)), false);
    assert.equal(b.size, 4);
  });

  it('a higher height replaces what is held; a lower one is refused; a passed one is dropped', () => {
    const b = new NextHeightBuffer({ maxVotes: 10, maxProposals: 2, maxRound: 1 });
    b.holdVote('a', vote(5, 0, 1));
    assert.equal(b.holdVote('a', vote(6, 0, 1)), true);
    assert.equal(b.holdVote('a', vote(5, 0, 2)), false);
    assert.equal(b.size, 1);
    assert.equal(b.takeFor(7), null, 'height 6 was passed');
    assert.equal(b.size, 0);
  });
});
