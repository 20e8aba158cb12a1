import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../../test/support/chain-fixture.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { assembleBlock } from '../../chain/block-assembler.ts';
import { sign } from '../../crypto/signer.ts';
import { nobleVerifier } from '../../crypto/verifier.ts';
import { silentLogger } from '../../logger/index.ts';
import type { Block } from '../../primitives/block.ts';
import { NO_POL_ROUND, proposalDigest, VoteType, voteDigest } from '../../primitives/commit.ts';
import { pubkeyLock } from '../../primitives/lock.ts';
import { bytesEqual } from '../../util/bytes.ts';
import { ValidatorSet } from '../validator-set.ts';
import { ValidatorSigner } from '../validator-signer.ts';
import { decodeVote, type ProposalMessage, type VoteMessage } from './messages.ts';
import { BftEngine, type ConsensusCatchupPeers } from './node-engine.ts';
import { ProposerPriorities } from './proposer.ts';

const keys = [0, 1, 2, 3].map((i) => testKey(20 + i));
const base = testGenesis({ validator: keys[0]!, funded: [testKey(1)] });
const genesis = {
  ...base,
  validators: new ValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, power: 10n }))),
};
const set = genesis.validators;
const keyOf = (index: number) =>
  keys.find((k) => bytesEqual(k.publicKey, set.validators[index]!.publicKey))!;

function vote(t: TestChain, index: number, round: number, blockHash: Uint8Array): VoteMessage {
  const digest = voteDigest(t.chain.chainIdHash, VoteType.prevote, 1, round, blockHash);
  return {
    type: VoteType.prevote,
    height: 1,
    round,
    blockHash,
    validatorIndex: index,
    signature: sign(digest, keyOf(index).privateKey),
  };
}

function proposal(
  t: TestChain,
  index: number,
  round: number,
  polRound: number,
  block: Block,
): ProposalMessage {
  const digest = proposalDigest(t.chain.chainIdHash, 1, round, polRound, block.hash);
  return {
    height: 1,
    round,
    polRound,
    block,
    proposerIndex: index,
    signature: sign(digest, keyOf(index).privateKey),
  };
}

/** A node engine of validator `me` on a manual clock, its own votes decoded into `sent`. */
async function engineOf(
  me: number,
  proposerOfBlock: number,
  catchupOf: (block: Block, t: TestChain) => ConsensusCatchupPeers,
) {
  const t = await openTestChain({ genesis, validator: keyOf(me) });
  const clock = new ManualClock();
  const sent: VoteMessage[] = [];
  const block = await assembleBlock(t.chain, {
    txs: [],
    fees: 0n,
    proposer: keyOf(proposerOfBlock).publicKey,
    rewardLock: pubkeyLock(keyOf(proposerOfBlock).publicKey),
    time: t.chain.tip.header.time + 1000,
  });
  const signer = new ValidatorSigner(
    { statePath: join(t.dir, 'bft-signer.json'), chainIdHash: t.chain.chainIdHash },
    { key: keyOf(me) },
  );
  const engine = new BftEngine(
    { walPath: join(t.dir, 'consensus.wal'), blockIntervalMs: 1000 },
    {
      host: {
        get tipHeight() {
          return t.chain.tipHeight;
        },
        proposeBlock: async () => null,
        commitBlock: async (b, certificate) => {
          await t.chain.connectBlock(b, certificate, { now: null });
        },
      },
      chain: t.chain,
      signer,
      transport: {
        broadcastProposal: () => {},
        broadcastVote: (bytes) => sent.push(decodeVote(bytes)),
        broadcastEvidence: () => {},
      },
      verifier: nobleVerifier,
      sigCache: null,
      penalise: (peer, _penalty, reason) => assert.fail(`${peer} penalised: ${reason}`),
      logger: silentLogger(),
      catchup: catchupOf(block, t),
      metrics: null,
      clock,
    },
  );
  /** Moves the clock in 50 ms steps (letting async work finish) until our prevote of `round` or `limitMs`. */
  const prevoteOf = async (round: number, limitMs: number) => {
    const find = () => sent.find((v) => v.type === VoteType.prevote && v.round === round);
    const started = clock.now();
    for (let i = 0; i < 2000 && find() === undefined && clock.now() - started < limitMs; i++) {
      clock.advance(50);
      await sleep(2);
    }
    return { vote: find(), afterMs: clock.now() - started };
  };
  return { t, engine, block, prevoteOf };
}

describe('BftEngine catch-up', () => {
  it("fetches a re-proposal's proof-of-lock prevotes and prevotes for it before the propose timeout", async () => {
    const proposers = ProposerPriorities.genesis(set);
    const p0 = proposers.proposerAt(0);
    const p2 = proposers.proposerAt(2);
    // This node: a validator that proposes neither round 0 nor round 2.
    const me = [0, 1, 2, 3].find((i) => i !== p0 && i !== p2)!;
    const others = [0, 1, 2, 3].filter((i) => i !== me);
    const asked: number[] = [];
    const { t, engine, block, prevoteOf } = await engineOf(me, p0, (b, tc) => ({
      peerIds: () => ['peer'],
      // Round 0, which this node missed entirely: a proposal and a polka of the other three.
      votes: async (_peer, height, round) => {
        asked.push(round);
        return height === 1 && round === 0 ? others.map((i) => vote(tc, i, 0, b.hash)) : [];
      },
      proposal: async () => proposal(tc, p0, 0, NO_POL_ROUND, b),
    }));
    engine.start();
    // Two validators that hold the polka prevote the re-proposal in round 2:
    // more than a third of the power, so this node skips to round 2.
    const [a, b] = others.filter((i) => i !== p2);
    for (const i of [a!, b!]) {
      const message = vote(t, i, 2, block.hash);
      assert.equal(await engine.onGossip('peer', { kind: 'vote', message }), 'accept');
    }
    assert.equal(engine.summary?.round, 2);
    const reproposal = proposal(t, p2, 2, 0, block);
    assert.equal(
      await engine.onGossip('peer', { kind: 'proposal', message: reproposal }),
      'accept',
    );

    // Round 2's propose timeout is 4 s (then a nil prevote): the prevote for the
    // block must come from catch-up, well before.
    const own = await prevoteOf(2, 4500);
    assert.ok(own.vote !== undefined, 'no prevote in round 2');
    assert.ok(
      asked.includes(0),
      `asked for rounds ${asked.join(',')}, not the proof-of-lock round`,
    );
    assert.ok(
      bytesEqual(own.vote.blockHash, block.hash),
      'prevoted nil instead of the re-proposed block',
    );
    assert.ok(own.afterMs < 3000, `prevoted only after ${own.afterMs} ms`);
    await engine.stop();
    await t.destroy();
  });

  it('fetches a proposal that more than a third prevoted at once, not when the round stalls', async () => {
    const p0 = ProposerPriorities.genesis(set).proposerAt(0);
    const me = [0, 1, 2, 3].find((i) => i !== p0)!;
    const others = [0, 1, 2, 3].filter((i) => i !== me);
    let fetched = 0;
    const { t, engine, block, prevoteOf } = await engineOf(me, p0, (b, tc) => ({
      peerIds: () => ['peer'],
      votes: async (_peer, height, round) =>
        height === 1 && round === 0 ? others.slice(0, 2).map((i) => vote(tc, i, 0, b.hash)) : [],
      proposal: async (_peer, hash) => {
        fetched++;
        return bytesEqual(hash, b.hash) ? proposal(tc, p0, 0, NO_POL_ROUND, b) : null;
      },
    }));
    engine.start();
    // Gossip brought two prevotes for the block, but not the proposal.
    for (const i of others.slice(0, 2)) {
      const message = vote(t, i, 0, block.hash);
      assert.equal(await engine.onGossip('peer', { kind: 'vote', message }), 'accept');
    }
    // Round 0's propose timeout is 3 s; a stalled round is noticed only after two looks (2-3 s).
    const own = await prevoteOf(0, 3500);
    assert.ok(own.vote !== undefined, 'no prevote in round 0');
    assert.ok(
      bytesEqual(own.vote.blockHash, block.hash),
      'prevoted nil: the proposal came too late',
    );
    assert.ok(own.afterMs <= 1500, `prevoted only after ${own.afterMs} ms`);
    assert.equal(fetched, 1);
    await engine.stop();
    await t.destroy();
  });
});
