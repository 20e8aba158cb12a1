import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { silentLogger } from '../../logger/index.ts';
import type { Transaction } from '../../primitives/transaction.ts';
import type {
  BlockWithCommit,
  PeerEvents,
  PeerInfo,
  PeerSource,
  ReqRespClient,
  StatusMessage,
} from '../reqresp/index.ts';
import { ReqRespError } from '../reqresp/index.ts';
import { SyncError } from './errors.ts';
import { ReqRespPeerSet } from './reqresp-adapter.ts';

const hash = (n: number) => new Uint8Array(32).fill(n);

function status(height: number): StatusMessage {
  return {
    protocolVersion: 1,
    chainId: 'utxod-test',
    genesisHash: hash(0),
    tipHeight: height,
    tipHash: hash(height % 256),
  };
}

function info(peerId: string, height: number): PeerInfo {
  return {
    peerId,
    status: status(height),
    direction: 'outbound',
    remoteAddr: '/ip4/127.0.0.1',
    score: 0,
  };
}

/** A fake network: blocks are stand-ins carrying only their height. */
class FakeNetwork implements ReqRespClient, PeerSource {
  readonly events = new EventEmitter<PeerEvents>();
  readonly peers = new Map<string, PeerInfo>();
  readonly calls: Array<{ method: string; peerId: string; args: unknown[] }> = [];
  readonly reports: Array<{ peerId: string; penalty: number; reason: string }> = [];
  tip = 100;
  failWith: ReqRespError | null = null;

  connectedPeers(): PeerInfo[] {
    return [...this.peers.values()];
  }
  reportPeer(peerId: string, penalty: number, reason: string): void {
    this.reports.push({ peerId, penalty, reason });
  }
  async request<Item>(): Promise<Item[]> {
    throw new Error('unused');
  }
  async getStatus(peerId: string): Promise<StatusMessage> {
    this.calls.push({ method: 'status', peerId, args: [] });
    return status(this.tip);
  }
  async getBlocksByRange(peerId: string, start: number, count: number): Promise<BlockWithCommit[]> {
    this.calls.push({ method: 'range', peerId, args: [start, count] });
    if (this.failWith !== null) throw this.failWith;
    const out: BlockWithCommit[] = [];
    for (let h = start; h < start + count && h <= this.tip; h++)
      out.push({ block: { height: h }, commit: {} } as unknown as BlockWithCommit);
    return out;
  }
  async getBlockByHash(): Promise<BlockWithCommit | null> {
    return null;
  }
  async getMempoolTxids(peerId: string): Promise<Uint8Array[]> {
    this.calls.push({ method: 'mempool', peerId, args: [] });
    return [hash(1)];
  }
  async getTransactions(peerId: string, txids: readonly Uint8Array[]): Promise<Transaction[]> {
    this.calls.push({ method: 'txs', peerId, args: [txids.length] });
    return [];
  }
}

describe('ReqRespPeerSet', () => {
  it('maps peer events: first status adds, later ones update, disconnect removes, block:ahead hints', () => {
    const net = new FakeNetwork();
    net.peers.set('p1', info('p1', 10));
    const set = new ReqRespPeerSet({}, { client: net, source: net, logger: silentLogger() });
    assert.deepEqual(
      set.peers().map((p) => p.id),
      ['p1'],
    );
    const added: string[] = [];
    const removed: string[] = [];
    const statuses: Array<[string, number]> = [];
    const hints: Array<[string, number]> = [];
    set.onPeerAdded((p) => added.push(p.id));
    set.onPeerRemoved((id) => removed.push(id));
    set.onPeerStatus((id, s) => statuses.push([id, s.height]));
    set.onAheadHint((id, h) => hints.push([id, h]));
    net.events.emit('peer:status', info('p2', 20));
    net.events.emit('peer:status', info('p2', 21));
    net.events.emit('peer:status', info('p1', 11));
    net.events.emit('peer:disconnected', { peerId: 'p2' });
    net.events.emit('block:ahead', { peerId: 'p1', height: 30 });
    assert.deepEqual(added, ['p2']);
    assert.deepEqual(removed, ['p2']);
    assert.deepEqual(statuses, [
      ['p2', 20],
      ['p2', 21],
      ['p1', 11],
    ]);
    assert.deepEqual(hints, [['p1', 30]]);
  });

  it('answers status from the handshake while fresh, then asks the peer', async () => {
    let now = 1_000;
    const net = new FakeNetwork();
    net.peers.set('p1', info('p1', 10));
    const set = new ReqRespPeerSet(
      { statusMaxAgeMs: 5_000 },
      { client: net, source: net, logger: silentLogger(), clock: { now: () => now } },
    );
    const peer = set.peers()[0]!;
    assert.equal((await peer.status(new AbortController().signal)).height, 10);
    assert.equal(net.calls.length, 0);
    now += 5_000;
    assert.equal((await peer.status(new AbortController().signal)).height, 100);
    assert.equal(net.calls.length, 1);
  });

  it('splits a range into protocol-sized requests and stops at the peer tip', async () => {
    const net = new FakeNetwork();
    net.tip = 80;
    net.peers.set('p1', info('p1', 80));
    const set = new ReqRespPeerSet({}, { client: net, source: net, logger: silentLogger() });
    const items = await set.peers()[0]!.blocksByRange(1, 100, new AbortController().signal);
    assert.equal(items.length, 80);
    assert.deepEqual(
      net.calls.map((c) => c.args),
      [
        [1, 32],
        [33, 32],
        [65, 32],
      ],
    );
  });

  it('paces range requests under the server quota, abortably', async () => {
    const net = new FakeNetwork();
    net.peers.set('p1', info('p1', 100));
    const set = new ReqRespPeerSet(
      { rangeQuota: { requests: 2, perMs: 200 } },
      { client: net, source: net, logger: silentLogger() },
    );
    const peer = set.peers()[0]!;
    const started = performance.now();
    await peer.blocksByRange(1, 96, new AbortController().signal); // 3 requests, 2 tokens
    assert.ok(performance.now() - started >= 90, 'the third request waited for a token');
    const controller = new AbortController();
    const pending = peer.blocksByRange(1, 32, controller.signal);
    controller.abort();
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof SyncError && e.code === 'SYNC_TIMEOUT',
    );
  });

  it('maps req/resp errors: what req/resp already punished costs nothing more', async () => {
    const net = new FakeNetwork();
    net.peers.set('p1', info('p1', 100));
    const set = new ReqRespPeerSet({}, { client: net, source: net, logger: silentLogger() });
    const peer = set.peers()[0]!;
    const ctx = { peerId: 'p1', protocol: 'blocks_by_range' };
    const cases = [
      ['REQRESP_INVALID_RESPONSE', 'SYNC_PROTOCOL_VIOLATION', 0],
      ['REQRESP_TIMEOUT', 'SYNC_TIMEOUT', 0],
      ['REQRESP_STREAM_ERROR', 'SYNC_REQUEST_FAILED', 2],
      ['REQRESP_DIAL_FAILED', 'SYNC_REQUEST_FAILED', 2],
    ] as const;
    for (const [code, expected, penalty] of cases) {
      net.failWith = new ReqRespError(code, code, ctx);
      await assert.rejects(
        peer.blocksByRange(1, 10, new AbortController().signal),
        (e: unknown) => e instanceof SyncError && e.code === expected && e.penalty === penalty,
      );
    }
    assert.deepEqual(await peer.mempoolTxids!(new AbortController().signal), [hash(1)]);
    peer.penalize(0, 'nothing');
    peer.penalize(100, 'BLOCK_BAD_TX_ROOT: x');
    assert.deepEqual(net.reports, [
      { peerId: 'p1', penalty: 100, reason: 'sync: BLOCK_BAD_TX_ROOT: x' },
    ]);
  });
});
