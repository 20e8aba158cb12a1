import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { testKey } from '../../../test/support/chain-fixture.ts';
import { sign } from '../../crypto/signer.ts';
import { ParallelVerifier } from '../../crypto/verify-pool.ts';
import { silentLogger } from '../../logger/index.ts';
import { VoteType, voteDigest } from '../../primitives/commit.ts';
import { ValidatorSet } from '../validator-set.ts';
import { EvidenceIntake, toDuplicateVote } from './evidence-intake.ts';
import type { EvidenceMessage, VoteMessage } from './messages.ts';

const chainIdHash = new Uint8Array(32).fill(9);
const keys = [testKey(50), testKey(51), testKey(52)];
const set = new ValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, power: 10n })));
const chain = { chainIdHash, tipHeight: 20, validatorsAt: () => set };

function vote(index: number, height: number, hashByte: number, signWith = index): VoteMessage {
  const key = keys.find((k) => set.indexOf(k.publicKey) === signWith)!;
  const blockHash = new Uint8Array(32).fill(hashByte);
  return {
    type: VoteType.prevote,
    height,
    round: 1,
    blockHash,
    validatorIndex: index,
    signature: sign(
      voteDigest(chainIdHash, VoteType.prevote, height, 1, blockHash),
      key.privateKey,
    ),
  };
}

describe('EvidenceIntake', () => {
  let verifier: ParallelVerifier;
  before(async () => {
    verifier = await ParallelVerifier.init({ workers: 0 });
  });
  after(() => verifier.close());

  it('turns two votes of one validator into canonical evidence, whatever their order', () => {
    const e1 = toDuplicateVote({ kind: 1, voteA: vote(1, 5, 9), voteB: vote(1, 5, 3) }, set);
    const e2 = toDuplicateVote({ kind: 1, voteA: vote(1, 5, 3), voteB: vote(1, 5, 9) }, set);
    assert.deepEqual(e1, e2);
    assert.equal(e1?.blockHashA[0], 3);
    assert.equal(
      toDuplicateVote({ kind: 1, voteA: vote(1, 5, 9), voteB: vote(2, 5, 3) }, set),
      null,
    );
  });

  it('pools our own detection and a peer’s copy once; penalises forged evidence from a peer', async () => {
    const penalties: { peer: string; penalty: number }[] = [];
    const intake = new EvidenceIntake({
      chain,
      verifier,
      penalise: (peer, penalty) => penalties.push({ peer, penalty }),
      logger: silentLogger(),
    });
    const real: EvidenceMessage = { kind: 1, voteA: vote(0, 7, 1), voteB: vote(0, 7, 2) };
    assert.equal(await intake.receive(real, null), 'accept');
    assert.equal(await intake.receive(real, 'peer-a'), 'ignore');
    assert.equal(intake.pool.size, 1);
    // Votes of validator 2 signed by validator 1's key: they name 2, but do not verify.
    const forged: EvidenceMessage = { kind: 1, voteA: vote(2, 8, 1, 1), voteB: vote(2, 8, 2, 1) };
    assert.equal(await intake.receive(forged, 'peer-b'), 'reject');
    assert.deepEqual(penalties, [{ peer: 'peer-b', penalty: 100 }]);
    assert.equal(intake.pool.size, 1);
  });
});
