/**
 * A validator that crashes after its signer recorded a signature but before
 * the WAL or the network saw the message must not sign anything conflicting
 * after the restart, even when it then builds a different block for the same
 * round (its mempool changed) and its WAL is gone.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestChain, testGenesis, testKey } from '../../../test/support/chain-fixture.ts';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { assembleBlock } from '../../chain/block-assembler.ts';
import { sign } from '../../crypto/signer.ts';
import { nobleVerifier } from '../../crypto/verifier.ts';
import { silentLogger } from '../../logger/index.ts';
import { VoteType, voteDigest } from '../../primitives/commit.ts';
import { pubkeyLock } from '../../primitives/lock.ts';
import { bytesKey } from '../../util/bytes.ts';
import { ValidatorSet } from '../validator-set.ts';
import { ValidatorSigner } from '../validator-signer.ts';
import { BftDriver } from './driver.ts';
import { decodeProposal, decodeVote } from './messages.ts';
import { ProposerPriorities } from './proposer.ts';
import { DEFAULT_BFT_PARAMS, NIL_HASH } from './types.ts';
import { ConsensusWal } from './wal.ts';

describe('BFT driver: crash between signing and sending', () => {
  it('after a restart without its WAL, refuses to sign a second block for a round it signed', async () => {
    const me = testKey(0);
    const other = testKey(1);
    // Two validators of equal power: alone, this one can never commit, so the height stays open.
    const genesis = {
      ...testGenesis({ validator: me, funded: [testKey(2)] }),
      validators: new ValidatorSet([
        { publicKey: me.publicKey, power: 10n },
        { publicKey: other.publicKey, power: 10n },
      ]),
    };
    const t = await openTestChain({ genesis, validator: me });
    const walPath = join(t.dir, 'consensus.wal');
    const proposals: Uint8Array[] = [];
    const votes: Uint8Array[] = [];

    async function run(blockTimeOffset: number, ticks: number): Promise<void> {
      const wal = ConsensusWal.open({ path: walPath });
      const clock = new ManualClock();
      const driver = new BftDriver(
        { params: DEFAULT_BFT_PARAMS, height: t.chain.tipHeight + 1 },
        {
          host: {
            chainIdHash: t.chain.chainIdHash,
            proposeBlock: () =>
              assembleBlock(t.chain, {
                txs: [],
                fees: 0n,
                proposer: me.publicKey,
                rewardLock: pubkeyLock(me.publicKey),
                time: t.chain.tip.header.time + blockTimeOffset,
              }),
            validateProposal: async () => true,
            commitBlock: async () => assert.fail('two of two validators never both voted'),
            validatorsAt: () => genesis.validators,
          },
          transport: {
            broadcastProposal: (b) => proposals.push(b),
            broadcastVote: (b) => votes.push(b),
            broadcastEvidence: () => {},
          },
          clock,
          // The signer's state file survives the crash: it is what guards against double signing.
          signer: new ValidatorSigner(
            { statePath: join(t.dir, 'signer-state.json'), chainIdHash: t.chain.chainIdHash },
            { key: me },
          ),
          wal: wal.wal,
          verifier: nobleVerifier,
          sigCache: null,
          proposers: ProposerPriorities.genesis(genesis.validators),
          logger: silentLogger(),
          penalise: () => {},
        },
      );
      driver.start(wal.replay.entries);
      const otherIndex = genesis.validators.indexOf(other.publicKey);
      for (let i = 0; i < ticks; i++) {
        await sleep(5);
        // The other validator votes nil in every round, so rounds time out and move on.
        const { height, round } = driver.summary;
        for (const type of [VoteType.prevote, VoteType.precommit]) {
          const digest = voteDigest(t.chain.chainIdHash, type, height, round, NIL_HASH);
          const signature = sign(digest, other.privateKey);
          const vote = {
            type,
            height,
            round,
            blockHash: NIL_HASH,
            validatorIndex: otherIndex,
            signature,
          };
          driver.receiveDecodedVote('other', vote);
        }
        if (!driver.busy) clock.fireNext();
      }
      await sleep(20);
      await driver.stop();
      wal.wal.close();
    }

    try {
      // First life: it proposes in its round, prevotes and precommits what it can.
      await run(1000, 40);
      assert.ok(proposals.length >= 1, 'it proposed');
      assert.ok(votes.length >= 2, 'it voted');
      // The crash loses the WAL (the worst case: the records never reached the disk).
      rmSync(walPath);
      // Second life: the same rounds again, now with another block to propose.
      await run(2000, 40);
    } finally {
      await t.destroy();
    }

    const signed = new Map<string, string>();
    const record = (slot: string, hash: Uint8Array) => {
      const seen = signed.get(slot);
      assert.ok(
        seen === undefined || seen === bytesKey(hash),
        `two different blocks signed at ${slot}`,
      );
      signed.set(slot, bytesKey(hash));
    };
    for (const bytes of proposals) {
      const p = decodeProposal(bytes);
      record(`proposal ${p.height}/${p.round}`, p.block.hash);
    }
    for (const bytes of votes) {
      const v = decodeVote(bytes);
      record(`vote ${v.type} ${v.height}/${v.round}`, v.blockHash);
    }
    const secondLife = proposals.slice(1).map((b) => decodeProposal(b));
    assert.ok(
      secondLife.every((p) => p.round > decodeProposal(proposals[0]!).round),
      'no second proposal for a round already proposed in',
    );
  });
});
