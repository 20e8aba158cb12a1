/**
 * Four BFT drivers in one process, each with its own real chain (LevelDB),
 * signer, WAL and the real clock, connected by an in-memory broadcast that
 * carries the encoded wire messages (so decoding and signature checks run).
 * They must agree on every block; with one of them stopped the other three
 * (3/4 of the power) go on.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { assembleBlock } from '../../src/chain/block-assembler.ts';
import { BftDriver } from '../../src/consensus/bft/driver.ts';
import { ProposerPriorities } from '../../src/consensus/bft/proposer.ts';
import { DEFAULT_BFT_PARAMS } from '../../src/consensus/bft/types.ts';
import { ConsensusWal } from '../../src/consensus/bft/wal.ts';
import { ValidatorSet } from '../../src/consensus/validator-set.ts';
import { ValidatorSigner } from '../../src/consensus/validator-signer.ts';
import { nobleVerifier } from '../../src/crypto/verifier.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { bytesEqual, toHex } from '../../src/util/bytes.ts';
import { systemClock } from '../../src/util/clock.ts';
import { openTestChain, type TestChain, testGenesis, testKey } from '../support/chain-fixture.ts';

const keys = [0, 1, 2, 3].map((i) => testKey(10 + i));
const base = testGenesis({ validator: keys[0]!, funded: [testKey(1)] });
const genesis = {
  ...base,
  validators: new ValidatorSet(keys.map((k) => ({ publicKey: k.publicKey, power: 10n }))),
};

interface Node {
  readonly t: TestChain;
  readonly driver: BftDriver;
  readonly wal: ConsensusWal;
  up: boolean;
}

describe('four BFT drivers over an in-memory network', () => {
  const nodes: Node[] = [];
  after(async () => {
    for (const n of nodes) {
      if (n.up) await n.driver.stop();
      n.wal.close();
      await n.t.destroy();
    }
  });

  it('agree on every block, and three of four go on without the fourth', async () => {
    const penalties: string[] = [];
    const deliver = (from: number, kind: 'vote' | 'proposal', bytes: Uint8Array) => {
      for (const [i, n] of nodes.entries()) {
        if (i === from || !n.up) continue;
        setImmediate(() => {
          if (!n.up) return;
          if (kind === 'vote') n.driver.receiveVote(`node${from}`, bytes);
          else n.driver.receiveProposal(`node${from}`, bytes);
        });
      }
    };
    for (const [i, key] of keys.entries()) {
      const t = await openTestChain({ genesis, validator: key });
      const { wal } = ConsensusWal.open({ path: join(t.dir, 'consensus.wal') });
      const signer = new ValidatorSigner(
        { statePath: join(t.dir, 'bft-signer.json'), chainIdHash: t.chain.chainIdHash },
        { key },
      );
      const driver = new BftDriver(
        {
          params: {
            ...DEFAULT_BFT_PARAMS,
            timeoutProposeMs: 1500,
            timeoutPrevoteMs: 400,
            timeoutPrecommitMs: 400,
            timeoutCommitMs: 50,
          },
          height: 1,
        },
        {
          host: {
            chainIdHash: t.chain.chainIdHash,
            proposeBlock: () =>
              assembleBlock(t.chain, {
                txs: [],
                fees: 0n,
                proposer: key.publicKey,
                rewardLock: pubkeyLock(key.publicKey),
                time: t.chain.tip.header.time + 1000,
              }),
            validateProposal: async (block) =>
              block.height === t.chain.tipHeight + 1 &&
              bytesEqual(block.header.prevHash, t.chain.tip.hash),
            commitBlock: async (block, certificate) => {
              await t.chain.connectBlock(block, certificate, { now: null });
            },
            validatorsAt: () => t.chain.validators,
          },
          transport: {
            broadcastVote: (b) => deliver(i, 'vote', b),
            broadcastProposal: (b) => deliver(i, 'proposal', b),
            broadcastEvidence: () => {},
          },
          clock: systemClock,
          signer,
          wal,
          verifier: nobleVerifier,
          sigCache: null,
          proposers: ProposerPriorities.genesis(t.chain.validators),
          logger: silentLogger(),
          penalise: (peer, penalty, reason) => penalties.push(`${peer} ${penalty} ${reason}`),
        },
      );
      nodes.push({ t, driver, wal, up: true });
    }
    for (const n of nodes) n.driver.start([]);

    const heights = () => nodes.filter((n) => n.up).map((n) => n.t.chain.tipHeight);
    const waitAll = async (h: number) => {
      for (let i = 0; i < 600 && Math.min(...heights()) < h; i++) await sleep(50);
      assert.ok(Math.min(...heights()) >= h, `heights ${heights().join(',')} did not reach ${h}`);
    };
    await waitAll(3);

    const stopped = nodes[3]!;
    stopped.up = false;
    await stopped.driver.stop();
    const at = Math.max(...heights());
    await waitAll(at + 3);

    const upTo = Math.min(...heights());
    for (let h = 1; h <= upTo; h++) {
      const hashes = new Set<string>();
      for (const n of nodes.filter((x) => x.up)) hashes.add(toHex((await n.t.chain.getHashAt(h))!));
      assert.equal(hashes.size, 1, `one block at height ${h}`);
      const commit = await nodes[0]!.t.chain.getCommitAt(h);
      assert.ok(commit !== undefined && commit.signatures.length >= 3);
    }
    assert.deepEqual(penalties, [], 'honest peers are never penalised');
  });
});
