import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import {
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { createTestPeer, type TestPeer } from '../../test/support/test-peer.ts';
import { DecodeError } from '../encoding/errors.ts';
import { silentLogger } from '../logger/index.ts';
import { Database } from '../storage/db.ts';
import { BanList, banPeer, listBans, unbanPeer } from './bans.ts';
import { decodeEvidence, decodeProposal, decodeVote, encodeVote } from './consensus-messages.ts';
import { messageId } from './gossip.ts';
import { loadOrCreatePeerKey } from './identity.ts';
import {
  decodeBlockWithCommit,
  decodeStatus,
  encodeBlockWithCommit,
  encodeStatus,
  P2P_PROTOCOL_VERSION,
  type StatusMessage,
} from './messages.ts';
import { ReqResp } from './reqresp/engine.ts';
import { ReqRespError } from './reqresp/errors.ts';
import { blocksByRangeProtocol, statusProtocol } from './reqresp/index.ts';
import { PeerScores } from './scoring.ts';
import { topicKind, topicName } from './topics.ts';

const tmp = mkdtempSync(join(tmpdir(), 'utxod-p2p-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const status: StatusMessage = {
  protocolVersion: P2P_PROTOCOL_VERSION,
  chainId: 'utxod-test',
  genesisHash: new Uint8Array(32).fill(7),
  tipHeight: 12,
  tipHash: new Uint8Array(32).fill(9),
  earliestHeight: 5,
};

describe('p2p messages', () => {
  it('status round-trips and decodes strictly', () => {
    const bytes = encodeStatus(status);
    assert.deepEqual(decodeStatus(bytes), status);
    assert.throws(() => decodeStatus(bytes.subarray(0, bytes.length - 1)), DecodeError);
    assert.throws(() => decodeStatus(Uint8Array.of(...bytes, 0)), DecodeError);
    assert.throws(() => decodeStatus(new Uint8Array(10_000)), DecodeError);
    // History cannot start above the tip; a status without the field (version 1) does not decode.
    assert.throws(
      () => decodeStatus(encodeStatus({ ...status, earliestHeight: status.tipHeight + 1 })),
      DecodeError,
    );
    assert.deepEqual(
      decodeStatus(encodeStatus({ ...status, earliestHeight: 12 })).earliestHeight,
      12,
    );
    assert.throws(() => decodeStatus(bytes.subarray(0, bytes.length - 4)), DecodeError);
    const badUtf8 = Uint8Array.of(1, 0, 0, 0, 1, 0xff, ...new Uint8Array(68));
    assert.throws(() => decodeStatus(badUtf8), DecodeError);
  });

  it('topics are versioned per chain', () => {
    assert.equal(topicName('utxod-devnet', 'tx'), '/utxod/utxod-devnet/tx/2');
    assert.equal(topicKind('utxod-devnet', '/utxod/utxod-devnet/block/1'), 'block');
    assert.equal(topicKind('utxod-devnet', '/utxod/other/block/1'), null);
    assert.notDeepEqual(messageId('/a', Uint8Array.of(1)), messageId('/b', Uint8Array.of(1)));
  });

  it('votes, proposals and evidence decode strictly', () => {
    const vote = {
      type: 2 as const,
      height: 5,
      round: 1,
      blockHash: new Uint8Array(32).fill(1),
      validatorIndex: 3,
      signature: new Uint8Array(64).fill(2),
    };
    const bytes = encodeVote(vote);
    assert.deepEqual(decodeVote(bytes), vote);
    const bad = bytes.slice();
    bad[0] = 3;
    assert.throws(() => decodeVote(bad), DecodeError);
    assert.throws(() => decodeVote(bytes.subarray(1)), DecodeError);
    const same = Uint8Array.of(1, ...bytes, ...bytes);
    assert.throws(
      () => decodeEvidence(same),
      (e: unknown) => e instanceof DecodeError && e.details['reason'] === 'same block',
    );
    const other = encodeVote({ ...vote, blockHash: new Uint8Array(32) });
    assert.equal(decodeEvidence(Uint8Array.of(1, ...bytes, ...other)).voteB.validatorIndex, 3);
    assert.throws(() => decodeProposal(new Uint8Array(20)), DecodeError);
  });
});

describe('peer scores and bans', () => {
  it('penalties add up to a ban and decay with time', () => {
    let now = 0;
    const scores = new PeerScores({ clock: { now: () => now } });
    assert.equal(scores.penalize('a', 60), false);
    assert.equal(scores.penalize('a', 60), true);
    now += 90 * 60_000;
    assert.ok(scores.score('a') > -1, 'nine half-lives later it is forgiven');
    assert.equal(scores.penalize('b', 100), true);
  });

  it('persists bans, expires them, and unbans', async () => {
    const db = await Database.open({ path: join(tmp, 'bans'), syncWrites: false });
    try {
      const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
      const other = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString();
      await banPeer(db, peer, 60_000, 'test', 1000);
      await banPeer(db, other, 10, 'short', 1000);
      assert.deepEqual(
        (await listBans(db, 2000)).map((b) => [b.peerId, b.reason]),
        [[peer, 'test']],
      );
      const list = await BanList.init({ db, clock: { now: () => 2000 } });
      assert.equal(list.isBanned(peer), true);
      assert.equal(list.isBanned(other), false);
      assert.equal(await unbanPeer(db, peer), true);
      assert.equal(await unbanPeer(db, peer), false);
      await assert.rejects(banPeer(db, 'not-a-peer', 1000, 'x'), /not a peer id/);
      await assert.rejects(banPeer(db, peer, 0, 'x'), /duration/);
    } finally {
      await db.close();
    }
  });

  it('keeps the peer identity across restarts, in a 0600 file', async () => {
    const path = join(tmp, 'peer.key');
    const first = await loadOrCreatePeerKey(path);
    const second = await loadOrCreatePeerKey(path);
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(
      peerIdFromPrivateKey(first.key).toString(),
      peerIdFromPrivateKey(second.key).toString(),
    );
    const { statSync } = await import('node:fs');
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});

describe('request/response over loopback', () => {
  const validator = testKey(1);
  let chain: TestChain;
  let server: TestPeer;
  let serverEngine: ReqResp;
  let client: TestPeer;
  const penalties: Array<{ peerId: string; penalty: number; reason: string }> = [];
  let serverId: string;

  before(async () => {
    chain = await openTestChain({
      genesis: testGenesis({ validator, funded: [testKey(2)] }),
      validator,
      dir: join(tmp, 'chain'),
    });
    for (let i = 0; i < 5; i++) await chain.produce();
    const local: StatusMessage = {
      ...status,
      chainId: chain.chain.genesis.chainId,
      genesisHash: chain.chain.genesisHash,
      tipHeight: 5,
      tipHash: chain.chain.tip.hash,
    };
    server = await createTestPeer({ status: local });
    // Replace the test peer's stub engine with one serving the real chain.
    await server.reqResp.stop();
    serverEngine = new ReqResp({
      libp2p: server.libp2p,
      logger: silentLogger(),
      metrics: null,
      penalize: (peerId, penalty, reason) => penalties.push({ peerId, penalty, reason }),
      context: {
        chain: chain.chain,
        mempool: { get: () => undefined, entries: () => [] },
        localStatus: () => local,
        onRemoteStatus: () => undefined,
      },
    });
    await serverEngine.start();
    client = await createTestPeer({ status: local });
    await client.libp2p.dial(server.libp2p.getMultiaddrs()[0]!);
    serverId = server.libp2p.peerId.toString();
  });

  after(async () => {
    await client.close();
    await serverEngine.stop();
    await server.close();
    await chain.close();
  });

  it('serves status, block ranges, blocks by hash and transactions', async () => {
    const remote = await client.reqResp.getStatus(serverId);
    assert.equal(remote.tipHeight, 5);
    const range = await client.reqResp.getBlocksByRange(serverId, 2, 10);
    assert.deepEqual(
      range.map((r) => r.block.height),
      [2, 3, 4, 5],
    );
    for (const { block, commit } of range) assert.equal(commit.height, block.height);
    const hash = range[1]!.block.hash;
    const one = await client.reqResp.getBlockByHash(serverId, hash);
    assert.equal(one?.block.height, 3);
    assert.equal(await client.reqResp.getBlockByHash(serverId, new Uint8Array(32)), null);
    assert.deepEqual(await client.reqResp.getTransactions(serverId, [new Uint8Array(32)]), []);
    assert.deepEqual(await client.reqResp.getMempoolTxids(serverId), []);
    assert.deepEqual(
      decodeBlockWithCommit(encodeBlockWithCommit(range[0]!)).block.hash,
      range[0]!.block.hash,
    );
  });

  it('rejects out-of-bounds requests locally', async () => {
    await assert.rejects(
      client.reqResp.getBlocksByRange(serverId, 1, 1000),
      (e: unknown) => e instanceof ReqRespError && e.code === 'REQRESP_INVALID_REQUEST',
    );
  });

  it('answers a malformed request with an error frame and penalises the sender', async () => {
    const before = penalties.length;
    const stream = await client.libp2p.dialProtocol(
      server.libp2p.peerId,
      blocksByRangeProtocol.protocolId,
    );
    const lp = lpStream(stream, { maxDataLength: 1024 });
    await lp.write(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0)); // count 0
    const frame = (await lp.read()).subarray();
    assert.equal(frame[0], 1, 'error frame');
    assert.match(new TextDecoder().decode(frame.subarray(1)), /out-of-range/);
    assert.equal(penalties.length, before + 1);
  });

  it('aborts an oversized request frame before reading it', async () => {
    const before = penalties.length;
    const stream = await client.libp2p.dialProtocol(
      server.libp2p.peerId,
      statusProtocol.protocolId,
    );
    const lp = lpStream(stream);
    await lp.write(new Uint8Array(100_000)).catch(() => undefined);
    await assert.rejects(lp.read({ signal: AbortSignal.timeout(5000) }));
    for (let i = 0; i < 50 && penalties.length === before; i++)
      await new Promise((r) => setTimeout(r, 20));
    assert.ok(penalties.length > before, 'penalised');
    assert.match(penalties.at(-1)!.reason, /too large/);
  });

  it('enforces the per-peer inbound quota', async () => {
    let limited = 0;
    for (let i = 0; i < statusProtocol.quota.requests + 10; i++) {
      try {
        await client.reqResp.getStatus(serverId);
      } catch (error) {
        assert.ok(error instanceof ReqRespError && error.code === 'REQRESP_SERVER_ERROR');
        assert.match(error.message, /rate limited/);
        limited++;
      }
    }
    assert.ok(limited >= 3, `${limited} rate limited`);
  });
});
