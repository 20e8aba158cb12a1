import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VoteType } from '../../primitives/commit.ts';
import { ValidatorSet } from '../validator-set.ts';
import { createState, step, summarize } from './engine.ts';
import { ProposerPriorities } from './proposer.ts';
import {
  type BftAction,
  type BftEvent,
  type BftState,
  DEFAULT_BFT_PARAMS,
  NIL_HASH,
  type SignedVote,
} from './types.ts';

function key(n: number): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = 2;
  k[32] = n;
  return k;
}

function setup(n: number, self: number) {
  const set = new ValidatorSet(
    Array.from({ length: n }, (_, i) => ({ publicKey: key(i + 1), power: 1n })),
  );
  const state = createState<string>({
    params: DEFAULT_BFT_PARAMS,
    height: 1,
    proposers: ProposerPriorities.genesis(set),
    self: key(self + 1),
  });
  return { set, state };
}

const hashA = new Uint8Array(32).fill(0xaa);
const hashB = new Uint8Array(32).fill(0xbb);

function vote(
  type: VoteType,
  validatorIndex: number,
  blockHash: Uint8Array,
  round = 0,
  height = 1,
): SignedVote {
  return {
    type,
    height,
    round,
    blockHash,
    validatorIndex,
    signature: new Uint8Array(64).fill(validatorIndex + 1),
  };
}

function run<B>(
  state: BftState<B>,
  events: BftEvent<B>[],
): { state: BftState<B>; actions: BftAction<B>[] } {
  const actions: BftAction<B>[] = [];
  for (const e of events) {
    const r = step(state, e);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

describe('BFT engine', () => {
  it('one validator proposes, prevotes, precommits and commits with its own votes', () => {
    const { set, state: s0 } = setup(1, 0);
    let { state, actions } = run(s0, [{ kind: 'start' }]);
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['request-proposal', 'schedule-timeout'],
    );
    const proposal = {
      height: 1,
      round: 0,
      polRound: -1,
      blockHash: hashA,
      block: 'A',
      proposerIndex: 0,
      signature: new Uint8Array(64),
    };
    ({ state, actions } = run(state, [{ kind: 'proposal', proposal }]));
    assert.deepEqual(actions, [
      { kind: 'validate-proposal', height: 1, blockHash: hashA, block: 'A' },
    ]);
    ({ state, actions } = run(state, [
      { kind: 'proposal-validated', height: 1, blockHash: hashA, valid: true },
    ]));
    assert.deepEqual(actions, [
      { kind: 'broadcast-vote', type: VoteType.prevote, height: 1, round: 0, blockHash: hashA },
    ]);
    ({ state, actions } = run(state, [{ kind: 'vote', vote: vote(VoteType.prevote, 0, hashA) }]));
    assert.equal(actions.at(-1)?.kind, 'broadcast-vote');
    assert.equal(state.lockedRound, 0);
    ({ state, actions } = run(state, [{ kind: 'vote', vote: vote(VoteType.precommit, 0, hashA) }]));
    const commit = actions.find((a) => a.kind === 'commit');
    assert.ok(commit !== undefined && commit.kind === 'commit');
    assert.equal(commit.block, 'A');
    assert.equal(commit.certificate.signatures.length, 1);
    assert.equal(state.step, 'commit');
    ({ state, actions } = run(state, [{ kind: 'block-committed', height: 1, validators: set }]));
    assert.equal(state.height, 2);
    assert.equal(state.step, 'new-height');
  });

  it('never modifies the state it is given', () => {
    const { state: s0 } = setup(4, 1);
    const frozen = run(s0, [
      { kind: 'start' },
      { kind: 'timeout', height: 1, round: 0, step: 'commit' },
    ]).state;
    const before = summarize(frozen);
    const r = step(frozen, { kind: 'vote', vote: vote(VoteType.prevote, 2, hashA) });
    assert.deepEqual(summarize(frozen), before);
    assert.notDeepEqual(summarize(r.state), before);
  });

  it('prevotes nil when the proposal times out and precommits nil on +2/3 nil prevotes', () => {
    const { state: s0 } = setup(4, 1);
    let { state, actions } = run(s0, [
      { kind: 'start' },
      { kind: 'timeout', height: 1, round: 0, step: 'propose' },
    ]);
    assert.deepEqual(actions.at(-1), {
      kind: 'broadcast-vote',
      type: VoteType.prevote,
      height: 1,
      round: 0,
      blockHash: NIL_HASH,
    });
    ({ state, actions } = run(
      state,
      [0, 1, 2].map((i) => ({ kind: 'vote', vote: vote(VoteType.prevote, i, NIL_HASH) }) as const),
    ));
    assert.ok(actions.some((a) => a.kind === 'broadcast-vote' && a.type === VoteType.precommit));
    assert.equal(state.step, 'precommit');
  });

  it('records one evidence for two different votes of one validator in one slot', () => {
    const { state: s0 } = setup(4, 1);
    const r = run(s0, [
      { kind: 'vote', vote: vote(VoteType.prevote, 3, hashA) },
      { kind: 'vote', vote: vote(VoteType.prevote, 3, hashB) },
      { kind: 'vote', vote: vote(VoteType.prevote, 3, NIL_HASH) },
    ]);
    const evidence = r.actions.filter((a) => a.kind === 'evidence');
    assert.equal(evidence.length, 1);
  });

  it('skips to a later round on messages of more than a third of the power', () => {
    const { state: s0 } = setup(4, 1);
    let { state } = run(s0, [{ kind: 'start' }]);
    ({ state } = run(state, [{ kind: 'vote', vote: vote(VoteType.prevote, 0, NIL_HASH, 5) }]));
    assert.equal(state.round, 0, 'one validator of four is not enough');
    const r = step(state, { kind: 'vote', vote: vote(VoteType.precommit, 2, NIL_HASH, 5) });
    assert.equal(r.state.round, 5);
    assert.ok(r.actions.some((a) => a.kind === 'round-changed' && a.reason === 'skip'));
  });

  it('bounds what a flood of votes can make it keep', () => {
    const { state: s0 } = setup(4, 1);
    let state = s0;
    const reasons = new Map<string, number>();
    for (let round = 0; round < 1000; round++) {
      for (const h of [0, 1, 2, 1_000_000]) {
        const r = step(state, {
          kind: 'vote',
          vote: vote(VoteType.prevote, 3, hashA, round + h, 1),
        });
        state = r.state;
        if (r.dropped) reasons.set(r.dropped, (reasons.get(r.dropped) ?? 0) + 1);
      }
      for (const height of [0, 2, 99]) {
        const r = step(state, {
          kind: 'vote',
          vote: vote(VoteType.precommit, 3, hashA, 0, height),
        });
        if (r.dropped) reasons.set(r.dropped, (reasons.get(r.dropped) ?? 0) + 1);
      }
      const r = step(state, { kind: 'vote', vote: vote(VoteType.precommit, 9, hashA) });
      if (r.dropped) reasons.set(r.dropped, (reasons.get(r.dropped) ?? 0) + 1);
    }
    // Round 0 plus at most maxFutureRoundsPerValidator rounds above it.
    assert.ok(
      state.rounds.size <= 1 + DEFAULT_BFT_PARAMS.maxFutureRoundsPerValidator,
      `${state.rounds.size} rounds kept`,
    );
    assert.ok((reasons.get('future-round-budget') ?? 0) > 0);
    assert.ok((reasons.get('far-future-round') ?? 0) > 0);
    assert.ok((reasons.get('past-height') ?? 0) > 0);
    assert.ok((reasons.get('future-height') ?? 0) > 0);
    assert.equal(reasons.get('unknown-validator'), 1000);
  });

  it("commits an equivocating proposer's other block once +2/3 precommit it", () => {
    const { state: s0 } = setup(4, 1);
    const proposer = s0.proposers.proposerAt(0);
    const others = [0, 1, 2, 3].filter((i) => i !== 1);
    const proposal = (blockHash: Uint8Array, block: string) => ({
      kind: 'proposal' as const,
      proposal: {
        height: 1,
        round: 0,
        polRound: -1,
        blockHash,
        block,
        proposerIndex: proposer,
        signature: new Uint8Array(64).fill(block.charCodeAt(0)),
      },
    });
    let { state } = run(s0, [
      { kind: 'start' },
      proposal(hashA, 'A'),
      { kind: 'proposal-validated', height: 1, blockHash: hashA, valid: true },
    ]);
    // The other three saw B from the same proposer, and committed it.
    const precommits = others.map(
      (i) => ({ kind: 'vote', vote: vote(VoteType.precommit, i, hashB) }) as const,
    );
    ({ state } = run(state, precommits));
    assert.equal(state.step, 'prevote', 'no block B to commit yet');
    // B arrives (catch-up fetches it by hash): taken in despite A, validated, committed.
    const r = step(state, proposal(hashB, 'B'));
    assert.equal(r.dropped, undefined);
    assert.deepEqual(
      r.actions.map((a) => a.kind),
      ['validate-proposal'],
    );
    const done = run(r.state, [
      { kind: 'proposal-validated', height: 1, blockHash: hashB, valid: true },
    ]);
    const commit = done.actions.find((a) => a.kind === 'commit');
    assert.ok(commit?.kind === 'commit' && commit.block === 'B');
    // Without votes for it, a third proposal of the round is not kept (nor validated).
    const hashC = new Uint8Array(32).fill(0xcc);
    assert.equal(step(r.state, proposal(hashC, 'C')).dropped, 'conflicting-proposal');
  });

  it('rejects a proposal from anyone but the round proposer', () => {
    const { state } = setup(4, 1);
    const proposer = state.proposers.proposerAt(0);
    const r = step(state, {
      kind: 'proposal',
      proposal: {
        height: 1,
        round: 0,
        polRound: -1,
        blockHash: hashA,
        block: 'A',
        proposerIndex: (proposer + 1) % 4,
        signature: new Uint8Array(64),
      },
    });
    assert.equal(r.dropped, 'wrong-proposer');
  });
});
