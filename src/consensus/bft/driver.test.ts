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
import { CommitCertificate, NO_POL_ROUND, VoteType, voteDigest } from '../../primitives/commit.ts';
import { pubkeyLock } from '../../primitives/lock.ts';
import { chainIdHash } from '../../primitives/sighash.ts';
import { bytesEqual } from '../../util/bytes.ts';
import { ValidatorSet } from '../validator-set.ts';
import { ValidatorSigner } from '../validator-signer.ts';
import { BftDriver, type BftHost } from './driver.ts';
import { decodeEvidence, encodeVote } from './messages.ts';
import { ProposerPriorities } from './proposer.ts';
import { DEFAULT_BFT_PARAMS, NIL_HASH } from './types.ts';
import { ConsensusWal } from './wal.ts';

function chainHost(t: TestChain): BftHost {
  const key = t.validator;
  return {
    chainIdHash: t.chain.chainIdHash,
    proposeBlock: (height) => {
      assert.equal(height, t.chain.tipHeight + 1);
      return assembleBlock(t.chain, {
        txs: [],
        fees: 0n,
        proposer: key.publicKey,
        rewardLock: pubkeyLock(key.publicKey),
        time: t.chain.tip.header.time + 1000,
      });
    },
    // Structural checks here; connectBlock runs every rule at commit.
    validateProposal: async (block: Block) =>
      block.height === t.chain.tipHeight + 1 && bytesEqual(block.header.prevHash, t.chain.tip.hash),
    commitBlock: async (block, certificate) => {
      await t.chain.connectBlock(block, certificate, { now: null });
    },
    validatorsAt: () => t.chain.validators,
  };
}

/** Virtual time moves only while the driver waits on nothing: slow disks cannot time rounds out. */
async function runUntil(clock: ManualClock, driver: BftDriver, done: () => boolean): Promise<void> {
  for (let i = 0; i < 20_000 && !done(); i++) {
    if (!driver.busy) clock.fireNext();
    await sleep(2);
  }
  assert.ok(done(), 'condition not reached');
}

function driverFor(
  t: TestChain,
  clock: ManualClock,
  penalties: string[] = [],
  sent: Uint8Array[] = [],
  host: BftHost = chainHost(t),
  signerPath = join(t.dir, 'bft-signer.json'),
) {
  const wal = ConsensusWal.open({ path: join(t.dir, 'consensus.wal') });
  const evidence: Uint8Array[] = [];
  const signer = new ValidatorSigner(
    { statePath: signerPath, chainIdHash: t.chain.chainIdHash },
    { key: t.validator },
  );
  const driver = new BftDriver(
    { params: { ...DEFAULT_BFT_PARAMS, timeoutCommitMs: 1000 }, height: t.chain.tipHeight + 1 },
    {
      host,
      transport: {
        broadcastProposal: (b) => sent.push(b),
        broadcastVote: (b) => sent.push(b),
        broadcastEvidence: (b) => {
          sent.push(b);
          evidence.push(b);
        },
      },
      clock,
      signer,
      wal: wal.wal,
      verifier: nobleVerifier,
      sigCache: null,
      proposers: ProposerPriorities.genesis(t.chain.validators),
      logger: silentLogger(),
      penalise: (peer, penalty, reason) => penalties.push(`${peer}:${penalty}:${reason}`),
    },
  );
  return { driver, wal, signer, evidence };
}

/** A one-validator chain (validator 0) and a manual clock. */
async function devnet() {
  const validator = testKey(0);
  const t = await openTestChain({
    genesis: testGenesis({ validator, funded: [testKey(1)] }),
    validator,
  });
  return { validator, t, clock: new ManualClock() };
}

describe('BFT driver', () => {
  it('runs a one-validator devnet: a block per commit timeout, certificates from its own precommits', async () => {
    const { validator, t, clock } = await devnet();
    const { driver, wal } = driverFor(t, clock);
    driver.start(wal.replay.entries);
    let enteredHeight3At = -1;
    await runUntil(clock, driver, () => {
      if (enteredHeight3At < 0 && driver.summary.height === 3) enteredHeight3At = clock.now();
      return t.chain.tipHeight >= 3;
    });
    // The API's view: the proposer of the round, and when the engine moved to it.
    assert.deepEqual(driver.summary.proposer, { index: 0, publicKey: validator.publicKey });
    assert.equal(driver.lastRoundChange?.height, 4);
    assert.equal(driver.lastRoundChange?.round, 0);
    assert.ok(
      (driver.lastRoundChange?.atMs ?? -1) > enteredHeight3At,
      'height 4 began after height 3',
    );
    await driver.stop();
    wal.wal.close();
    const commit = await t.chain.getCommitAt(2);
    assert.equal(commit?.round, 0);
    assert.equal(commit?.signatures.length, 1);
    assert.equal(driver.summary.height, 4);

    // Restart: the WAL's last marker is height 3; the chain goes on from there.
    const again = driverFor(t, clock);
    assert.equal(again.wal.replay.endHeight, 3);
    again.driver.start(again.wal.replay.entries);
    await runUntil(clock, again.driver, () => t.chain.tipHeight >= 5);
    await again.driver.stop();
    again.wal.wal.close();
    await t.destroy();
  });

  it('paces heights to the interval from the start of the previous height, and polls when idle', async () => {
    const { t, clock } = await devnet();
    const base = chainHost(t);
    const proposedAt: number[] = [];
    const committedAt: number[] = [];
    let idleUntil = 0;
    const host: BftHost = {
      ...base,
      proposeBlock: (height, round) => {
        proposedAt.push(clock.now());
        return base.proposeBlock(height, round);
      },
      // A commit that takes 300 ms of the interval (1,200 ms from height 4 on).
      commitBlock: async (block, certificate) => {
        await base.commitBlock(block, certificate);
        committedAt.push(clock.now());
        clock.advance(block.height >= 4 ? 1200 : 300);
        committedAt[committedAt.length - 1] = clock.now();
      },
      hasWork: () => clock.now() >= idleUntil,
    };
    const { driver, wal } = driverFor(t, clock, [], [], host);
    driver.start([]);
    await runUntil(clock, driver, () => t.chain.tipHeight >= 3);
    // Round 0 of each height begins 1,000 ms after the previous one, not 1,300.
    assert.deepEqual(
      proposedAt.slice(1, 3).map((at, i) => at - proposedAt[i]!),
      [1000, 1000],
    );
    // Quiet for a while: the first transaction after it waits a poll, not an interval.
    idleUntil = proposedAt[2]! + 5007;
    await runUntil(clock, driver, () => t.chain.tipHeight >= 4);
    const waited = proposedAt[3]! - idleUntil;
    assert.ok(waited >= 0 && waited <= 50, `proposed ${waited} ms after work arrived`);
    // A height longer than the interval: the next one still waits a quarter interval after the commit.
    await runUntil(clock, driver, () => proposedAt.length >= 5);
    assert.equal(proposedAt[4]! - committedAt[3]!, 250);
    await driver.stop();
    wal.wal.close();
    await t.destroy();
  });

  it('sends nothing it signed when the signer state cannot be written, and signs no more', async () => {
    const { t, clock } = await devnet();
    const sent: Uint8Array[] = [];
    const unwritable = join(t.dir, 'no-such-dir', 'bft-signer.json');
    const { driver, wal, signer } = driverFor(t, clock, [], sent, chainHost(t), unwritable);
    driver.start([]);
    for (let i = 0; i < 50; i++) {
      if (!driver.busy) clock.fireNext();
      await sleep(2);
    }
    assert.equal(sent.length, 0, 'the proposal was signed but its record never reached the disk');
    assert.equal(t.chain.tipHeight, 0);
    assert.throws(
      () => signer.signVote(VoteType.prevote, 1, 5, new Uint8Array(32)),
      /signer state/,
    );
    await driver.stop();
    wal.wal.close();
    await t.destroy();
  });

  it('holds a vote of the next height that arrives before its own commit, and counts it there', async () => {
    const me = testKey(0);
    const other = testKey(1);
    // `me` alone holds more than 2/3 of the power, so it commits without `other`.
    const genesis = {
      ...testGenesis({ validator: me, funded: [testKey(2)] }),
      validators: new ValidatorSet([
        { publicKey: me.publicKey, power: 10n },
        { publicKey: other.publicKey, power: 1n },
      ]),
    };
    const t = await openTestChain({ genesis, validator: me });
    const clock = new ManualClock();
    const penalties: string[] = [];
    const { driver, wal } = driverFor(t, clock, penalties);
    const otherIndex = genesis.validators.indexOf(other.publicKey);
    const nilVote = (height: number) => ({
      type: VoteType.prevote,
      height,
      round: 0,
      blockHash: NIL_HASH,
      validatorIndex: otherIndex,
      signature: sign(
        voteDigest(t.chain.chainIdHash, VoteType.prevote, height, 0, NIL_HASH),
        other.privateKey,
      ),
    });
    driver.start([]);
    assert.equal(driver.height, 1);
    // Gossip from a validator that already committed height 1: too early here.
    assert.equal(driver.receiveVote('early', encodeVote(nilVote(2))), 'ignore');
    assert.equal(driver.receiveVote('early', encodeVote(nilVote(3))), 'ignore');
    assert.deepEqual(driver.votesAt(2, 0), []);
    await runUntil(clock, driver, () => driver.height === 2);
    assert.deepEqual(
      driver.votesAt(2, 0).map((v) => v.validatorIndex),
      [otherIndex],
      'the held vote was checked and counted once height 2 began',
    );
    assert.deepEqual(penalties, []);
    await runUntil(clock, driver, () => driver.height === 3);
    assert.deepEqual(driver.votesAt(3, 0), [], 'two heights ahead is not held');
    await driver.stop();
    wal.wal.close();
    await t.destroy();
  });

  it('finds a double sign between a precommit it holds and the certificate of a synced block', async () => {
    const me = testKey(0);
    const other = testKey(1);
    const genesis = {
      ...testGenesis({ validator: me, funded: [testKey(2)] }),
      validators: new ValidatorSet([
        { publicKey: me.publicKey, power: 10n },
        { publicKey: other.publicKey, power: 1n },
      ]),
    };
    const t = await openTestChain({ genesis, validator: me });
    const clock = new ManualClock();
    const { driver, wal, evidence } = driverFor(t, clock);
    const otherIndex = genesis.validators.indexOf(other.publicKey);
    const precommitFor = (blockHash: Uint8Array) =>
      sign(voteDigest(t.chain.chainIdHash, VoteType.precommit, 1, 0, blockHash), other.privateKey);
    const blockB = new Uint8Array(32).fill(0xbb);
    const blockA = new Uint8Array(32).fill(0xaa);
    driver.start([]);
    // The losing side of an equivocation: `other` precommitted B to this node...
    const held = {
      type: VoteType.precommit,
      height: 1,
      round: 0,
      blockHash: blockB,
      validatorIndex: otherIndex,
      signature: precommitFor(blockB),
    };
    assert.equal(driver.receiveVote('p1', encodeVote(held)), 'accept');
    // ...and the block sync brings A, finalised with its precommit for A.
    const certificate = new CommitCertificate({
      height: 1,
      round: 0,
      blockHash: blockA,
      signatures: [{ validatorIndex: otherIndex, signature: precommitFor(blockA) }],
    });
    assert.equal(evidence.length, 0);
    driver.syncedTo(1, undefined, certificate);
    assert.equal(evidence.length, 1, 'duplicate-vote evidence broadcast');
    const e = decodeEvidence(evidence[0]!);
    assert.deepEqual(
      [e.voteA.validatorIndex, e.voteA.blockHash, e.voteB.blockHash],
      [otherIndex, blockB, blockA],
    );
    assert.equal(driver.height, 2, 'and it moved on');
    await driver.stop();
    wal.wal.close();
    await t.destroy();
  });

  it('penalises malformed and forged votes before the engine sees them, ignores other heights', async () => {
    const { validator, t, clock } = await devnet();
    const penalties: string[] = [];
    const { driver, wal } = driverFor(t, clock, penalties);
    const someBlock = await t.chain.requireBlockAt(0);
    driver.start([]);
    const codeOf = (penalty: string | undefined) => penalty?.split(':')[2]?.split(/\s/)[0];
    assert.equal(driver.receiveVote('p1', new Uint8Array(10)), 'reject');
    assert.match(penalties[0]!, /^p1:100:/);
    assert.equal(codeOf(penalties[0]), 'CONSENSUS_MALFORMED');
    const forged = {
      type: VoteType.prevote,
      height: 1,
      round: 0,
      blockHash: new Uint8Array(32).fill(7),
      validatorIndex: 0,
      signature: new Uint8Array(64).fill(1),
    };
    assert.equal(driver.receiveVote('p2', encodeVote(forged)), 'reject');
    assert.equal(codeOf(penalties[1]), 'CONSENSUS_BAD_SIGNATURE');
    assert.equal(driver.receiveVote('p3', encodeVote({ ...forged, validatorIndex: 5 })), 'reject');
    assert.equal(codeOf(penalties[2]), 'CONSENSUS_UNKNOWN_VALIDATOR');
    assert.equal(driver.receiveVote('p4', encodeVote({ ...forged, height: 9 })), 'ignore');
    assert.equal(penalties.length, 3);
    const real = new ValidatorSigner(
      {
        statePath: join(t.dir, 'other-signer.json'),
        chainIdHash: chainIdHash(t.chain.params.chainId),
      },
      { key: validator },
    ).signVote(VoteType.prevote, 1, 3, forged.blockHash).signature;
    assert.equal(
      driver.receiveVote('p5', encodeVote({ ...forged, round: 3, signature: real })),
      'accept',
    );
    assert.equal(driver.summary.rounds.find((r) => r.round === 3)?.prevotes, 1);
    assert.deepEqual(
      driver.votesAt(1, 3).map((v) => v.validatorIndex),
      [0],
      'catch-up serves the votes it holds',
    );
    assert.deepEqual(driver.votesAt(2, 3), []);
    // A proposal from anyone but the round's proposer is refused before its signature is checked.
    const notTheProposer = {
      height: driver.summary.height,
      round: driver.summary.round,
      polRound: NO_POL_ROUND,
      block: someBlock,
      proposerIndex: 5,
      signature: new Uint8Array(64),
    };
    assert.equal(driver.receiveDecodedProposal('p6', notTheProposer), 'reject');
    assert.equal(codeOf(penalties[3]), 'CONSENSUS_WRONG_PROPOSER');
    await driver.stop();
    wal.wal.close();
    await t.destroy();
  });
});
