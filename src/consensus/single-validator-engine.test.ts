import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestChain, testGenesis, testKey } from '../../test/support/chain-fixture.ts';
import { assembleBlock } from '../chain/block-assembler.ts';
import { silentLogger } from '../logger/index.ts';
import { VoteType } from '../primitives/commit.ts';
import { pubkeyLock } from '../primitives/lock.ts';
import { chainIdHash } from '../primitives/sighash.ts';
import type { ConsensusHost } from './engine.ts';
import { SingleValidatorEngine } from './single-validator-engine.ts';
import { ValidatorSigner } from './validator-signer.ts';

describe('single-validator engine', () => {
  it('produces final blocks, and moves to the next round after a signed-but-lost block', async () => {
    const validator = testKey(0);
    const genesis = testGenesis({ validator, funded: [testKey(1)] });
    const t = await openTestChain({ genesis, validator });
    const statePath = join(t.dir, 'engine-signer.json');
    // A previous run signed a precommit for some block at height 1 and crashed before connecting it.
    new ValidatorSigner(
      { statePath, chainIdHash: chainIdHash(genesis.chainId) },
      { key: validator },
    ).signVote(VoteType.precommit, 1, 0, new Uint8Array(32).fill(0xaa));
    const signer = new ValidatorSigner(
      { statePath, chainIdHash: chainIdHash(genesis.chainId) },
      { key: validator },
    );
    const host: ConsensusHost = {
      get tipHeight() {
        return t.chain.tipHeight;
      },
      proposeBlock: () =>
        assembleBlock(t.chain, {
          txs: [],
          fees: 0n,
          proposer: validator.publicKey,
          rewardLock: pubkeyLock(validator.publicKey),
          time: Date.now(),
        }),
      commitBlock: async (block, commit) => {
        await t.chain.connectBlock(block, commit);
      },
    };
    const engine = new SingleValidatorEngine(
      { blockIntervalMs: 50 },
      { host, signer, validators: t.chain.validators, logger: silentLogger() },
    );
    engine.start();
    while (t.chain.tipHeight < 3) await sleep(20);
    await engine.stop();
    const heightAfterStop = t.chain.tipHeight;
    await sleep(150);
    assert.equal(t.chain.tipHeight, heightAfterStop, 'no block after stop()');
    assert.equal((await t.chain.getCommitAt(1))?.round, 1, 'height 1 was committed in round 1');
    assert.equal((await t.chain.getCommitAt(2))?.round, 0);
    await t.destroy();
  });
});
