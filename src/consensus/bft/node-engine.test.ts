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

describe('BftEngine catch-up', () => {
  it("fetches a re-proposal's proof-of-lock prevotes and prevotes for it before the propose timeout", async () => {
    const proposers = ProposerPriorities.genesis(set);
    const p0 = proposers.proposerAt(0);
    const p2 = proposers.proposerAt(2);
    // This node: a validator that proposes neither round 0 nor round 2.
    const me = [0, 1, 2, 3].find((i) => i !== p0 && i !== p2)!;
    const t = await openTestChain({ genesis, validator: keyOf(me) });
    const clock = new ManualClock();
    const sent: VoteMessage[] = [];
    const block = await assembleBlock(t.chain, {
      txs: [],
      fees: 0n,
      proposer: keyOf(p0).publicKey,
      rewardLock: pubkeyLock(keyOf(p0).publicKey),
      time: t.chain.tip.header.time + 1000,
    });
    const others = [0, 1, 2, 3].filter((i) => i !== me);
    // Round 0, which this node missed entirely: a proposal and a polka of the other three.
    const round0 = others.map((i) => vote(t, i, 0, block.hash));
    const asked: number[] = [];
    const catchup: ConsensusCatchupPeers = {
      peerIds: () => ['peer'],
      votes: async (_peer, height, round) => {
        asked.push(round);
        return height === 1 && round === 0 ? round0 : [];
      },
      proposal: async () => proposal(t, p0, 0, NO_POL_ROUND, block),
    };
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
        catchup,
        metrics: null,
        clock,
      },
    );
    engine.start();
    // Two validators that hold the polka prevote the re-proposal in round 2:
    // more than a third of the power, so this node skips to round 2.
    const [a, b] = others.filter((i) => i !== p2);
    for (const i of [a!, b!]) {
      assert.equal(
        await engine.onGossip('peer', { kind: 'vote', message: vote(t, i, 2, block.hash) }),
        'accept',
      );
    }
    assert.equal(engine.summary?.round, 2);
    const reproposal = proposal(t, p2, 2, 0, block);
    assert.equal(
      await engine.onGossip('peer', { kind: 'proposal', message: reproposal }),
      'accept',
    );

    const prevote = () => sent.find((v) => v.type === VoteType.prevote && v.round === 2);
    const started = clock.now();
    // Round 2's propose timeout is 4 s (then a nil prevote): the prevote for the
    // block must come from catch-up, well before.
    for (let i = 0; i < 2000 && prevote() === undefined && clock.now() - started < 4500; i++) {
      clock.advance(50);
      await sleep(2);
    }
    const own = prevote();
    assert.ok(own !== undefined, 'no prevote in round 2');
    assert.ok(
      asked.includes(0),
      `asked for rounds ${asked.join(',')}, not the proof-of-lock round`,
    );
    assert.ok(
      bytesEqual(own.blockHash, block.hash),
      'prevoted nil instead of the re-proposed block',
    );
    assert.ok(clock.now() - started < 3000, `prevoted only after ${clock.now() - started} ms`);
    await engine.stop();
    await t.destroy();
  });
});
