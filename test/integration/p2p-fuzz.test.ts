/**
 * Hostile peers against a real node process: random, truncated, mutated and
 * oversized frames on every request/response protocol, raw junk without
 * framing, streams abandoned half-way, and junk published on every gossip
 * topic. The node must stay up, keep producing, ban the senders, and still
 * serve an honest peer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { buildGenesisBlock, parseGenesis } from '../../src/chain/genesis.ts';
import {
  encodeBlockWithCommit,
  encodeStatus,
  P2P_PROTOCOL_VERSION,
  PROTOCOLS,
  type StatusMessage,
  TOPIC_KINDS,
  topicName,
} from '../../src/p2p/index.ts';
import { getJson, NodeProcess, runUtxod } from '../support/node-process.ts';
import { createTestPeer, type TestPeer } from '../support/test-peer.ts';

const root = mkdtempSync(join(tmpdir(), 'utxod-p2p-fuzz-'));
let node: NodeProcess | null = null;
const peers: TestPeer[] = [];

/** xorshift32: the same junk on every run. */
function prng(seed: number) {
  let x = seed >>> 0 || 1;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  return {
    int: (n: number) => next() % n,
    bytes: (n: number) => Uint8Array.from({ length: n }, () => next() & 0xff),
  };
}

function mutate(rand: ReturnType<typeof prng>, bytes: Uint8Array): Uint8Array[] {
  const flipped = bytes.slice();
  if (flipped.length > 0) flipped[rand.int(flipped.length)]! ^= 1 << rand.int(8);
  return [
    flipped,
    bytes.subarray(0, Math.max(0, bytes.length - 1 - rand.int(Math.max(1, bytes.length)))),
    Uint8Array.of(...bytes, ...rand.bytes(1 + rand.int(8))),
    new Uint8Array(0),
  ];
}

describe('p2p fuzz against a node process', { timeout: 120_000 }, () => {
  after(async () => {
    for (const peer of peers) await peer.close().catch(() => undefined);
    node?.child.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  });

  it('survives junk on every protocol and topic and still serves honest peers', async () => {
    const dir = join(root, 'node');
    assert.equal(runUtxod(['init', '--datadir', dir]).status, 0);
    node = NodeProcess.start(dir, ['--p2p-host', '127.0.0.1', '--block-interval', '200']);
    const listen = await node.waitForLog((l) => l.msg === 'p2p listening');
    const addr = multiaddr((listen['listenAddrs'] as string[])[0]!);
    const nodeId = String(listen['peerId']);
    const url = await node.url();
    await node.waitForLog((l) => l.msg === 'committed block' && Number(l['height']) >= 3);

    const genesis = parseGenesis(readFileSync(join(dir, 'genesis.json'), 'utf8'));
    const genesisHash = (await buildGenesisBlock(genesis)).block.hash;
    const status: StatusMessage = {
      protocolVersion: P2P_PROTOCOL_VERSION,
      chainId: genesis.chainId,
      genesisHash,
      tipHeight: 0,
      tipHash: genesisHash,
      earliestHeight: 0,
    };
    const connect = async (subscribe = false) => {
      const peer = await createTestPeer({ status, subscribe });
      peers.push(peer);
      for (let attempt = 0; ; attempt++) {
        try {
          await peer.libp2p.dial(addr);
          // The node serves nothing but status before a peer's status matched its own.
          await peer.reqResp.getStatus(nodeId);
          return peer;
        } catch (error) {
          // The node may still count the previous fuzzer's connection against the
          // per-IP limit (closing takes longer on a loaded machine): retry a while.
          if (attempt >= 20) throw error;
          await sleep(100);
        }
      }
    };

    // An honest peer fetches real data to mutate.
    const honest = await connect();
    const blocks = await honest.reqResp.getBlocksByRange(nodeId, 1, 3);
    assert.equal(blocks.length, 3);
    const validRequests: Record<string, Uint8Array> = {
      status: encodeStatus(status),
      blocks_by_range: Uint8Array.of(1, 0, 0, 0, 4, 0, 0, 0),
      block_by_hash: blocks[0]!.block.hash,
      transactions: Uint8Array.of(1, ...new Uint8Array(32)),
      mempool_txids: new Uint8Array(0),
      // height 3, round 0; and a proposal by hash (a block the node holds).
      consensus_votes: Uint8Array.of(3, 0, 0, 0, 0, 0, 0, 0),
      proposal_by_hash: blocks[0]!.block.hash,
      snapshots: Uint8Array.of(0),
      snapshot_manifest: new Uint8Array(36),
      snapshot_chunk: new Uint8Array(40),
    };
    await honest.close();

    const rand = prng(0x5eed);
    let cases = 0;
    for (const protocol of PROTOCOLS) {
      const valid = validRequests[protocol.name];
      assert.ok(valid, `a valid request for ${protocol.name} to mutate`);
      const frames: Array<{ kind: 'lp' | 'raw' | 'huge-length' | 'abort'; data: Uint8Array }> = [
        ...mutate(rand, valid).map((data) => ({ kind: 'lp' as const, data })),
        { kind: 'lp', data: rand.bytes(protocol.maxRequestBytes) },
        { kind: 'lp', data: rand.bytes(protocol.maxRequestBytes + 1) },
        { kind: 'lp', data: rand.bytes(64 * 1024) },
        { kind: 'raw', data: rand.bytes(1 + rand.int(300)) },
        { kind: 'huge-length', data: Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f) },
        { kind: 'abort', data: valid },
      ];
      for (const frame of frames) {
        cases++;
        const peer = await connect();
        try {
          const stream = await peer.libp2p.dialProtocol(
            peerIdFromString(nodeId),
            protocol.protocolId,
          );
          if (frame.kind === 'lp') {
            await lpStream(stream, { maxDataLength: 16 * 1024 * 1024 }).write(frame.data);
          } else {
            stream.send(frame.data);
          }
          if (frame.kind === 'abort') {
            stream.abort(new Error('fuzz abort'));
          } else {
            await stream.close().catch(() => undefined);
            // Drain whatever comes back (an error frame, a response or a reset).
            const reader = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 });
            for (let i = 0; i < 40; i++) {
              await reader.read({ signal: AbortSignal.timeout(3000) });
            }
          }
        } catch {
          // resets, refusals and EOFs are what a hostile peer deserves
        }
        await peer.close();
      }
    }

    // A banned fuzzer stays refused when it comes back with the same identity.
    const banned = String(node.logs.find((l) => l.msg === 'peer banned')?.['peer']);
    const bannedPeer = peers.find((p) => p.libp2p.peerId.toString() === banned);
    assert.ok(bannedPeer !== undefined, 'a fuzzer was banned');
    const returning = await createTestPeer({ status, privateKey: bannedPeer.privateKey });
    peers.push(returning);
    await assert.rejects(
      returning.libp2p.dial(addr, { signal: AbortSignal.timeout(5000) }).then(async (c) => {
        // The gater may let the TCP handshake finish and drop the peer right after.
        await sleep(500);
        if (c.status === 'open' && returning.libp2p.getConnections().length > 0) return c;
        throw new Error('dropped');
      }),
    );
    await returning.close();

    // Junk on every gossip topic, each from a fresh peer (a reject costs the sender its score).
    for (const kind of TOPIC_KINDS) {
      const topic = topicName(genesis.chainId, kind);
      const junk = [
        rand.bytes(1 + rand.int(200)),
        ...mutate(rand, kind === 'block' ? encodeBlockWithCommit(blocks[1]!) : rand.bytes(120)),
      ];
      const peer = await connect(true);
      const pubsub = peer.libp2p.services.pubsub;
      for (
        let i = 0;
        i < 50 && !pubsub.getSubscribers(topic).some((p) => p.toString() === nodeId);
        i++
      )
        await sleep(100);
      for (const data of junk) {
        cases++;
        await pubsub.publish(topic, data).catch(() => undefined);
      }
      // Wait for the node to judge the junk (slow on a loaded machine) before hanging up.
      const rejected = new RegExp(
        `utxod_p2p_gossip_messages_total\\{topic="${kind}",verdict="reject"\\} [1-9]`,
      );
      const metricsUrl = `${await node.metricsUrl()}/metrics`;
      for (let i = 0; i < 100; i++) {
        if (rejected.test(await (await fetch(metricsUrl)).text())) break;
        await sleep(100);
      }
      await peer.close();
    }

    // Still alive, still producing, and still serving an honest peer.
    assert.equal(node.child.exitCode, null, node.stderr);
    const before = node.committedHeight;
    await node.waitForLog((l) => l.msg === 'committed block' && Number(l['height']) > before + 2);
    const tip = await getJson<{ height: number }>(`${url}/api/v1/chain/tip`);
    assert.equal(tip.status, 200);
    const again = await connect();
    const remote = await again.reqResp.getStatus(nodeId);
    assert.ok(remote.tipHeight >= tip.body.height);
    assert.equal((await again.reqResp.getBlocksByRange(nodeId, 2, 2)).length, 2);

    const metrics = await (await fetch(`${await node.metricsUrl()}/metrics`)).text();
    const rejects = TOPIC_KINDS.filter((kind) =>
      new RegExp(
        `utxod_p2p_gossip_messages_total\\{topic="${kind}",verdict="reject"\\} [1-9]`,
      ).test(metrics),
    );
    assert.deepEqual(rejects, [...TOPIC_KINDS], 'junk was rejected on every topic');
    assert.match(metrics, /utxod_p2p_bans_total\{reason="score"\} [1-9]/);
    assert.ok(node.logs.some((l) => l.msg === 'peer banned'));
    assert.ok(cases > 40);

    for (const peer of peers) await peer.close().catch(() => undefined);
    assert.equal((await node.stop('SIGTERM')).code, 0, node.stderr);
  });
});
