import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../logger/index.ts';
import type { Transaction } from '../../primitives/transaction.ts';
import type { BlockWithCommit, ReqRespClient, StatusMessage } from '../reqresp/index.ts';
import { MAX_TXIDS_PER_REQUEST, ReqRespError } from '../reqresp/index.ts';
import { SyncError } from './errors.ts';
import { PacedClient } from './paced-client.ts';

const hash = (n: number) => new Uint8Array(32).fill(n);

function status(height: number): StatusMessage {
  return {
    protocolVersion: 1,
    chainId: 'utxod-test',
    genesisHash: hash(0),
    tipHeight: height,
    tipHash: hash(height % 256),
    earliestHeight: 0,
  };
}

/** A fake network: blocks are stand-ins carrying only their height. */
class FakeNetwork implements ReqRespClient {
  readonly calls: Array<{ method: string; peerId: string; args: unknown[] }> = [];
  tip = 100;
  failWith: ReqRespError | null = null;

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

describe('PacedClient', () => {
  it('splits a range into protocol-sized requests and stops at the peer tip', async () => {
    const net = new FakeNetwork();
    net.tip = 80;
    const client = new PacedClient({}, { client: net, logger: silentLogger() });
    const items = await client.getBlocksByRange('p1', 1, 100);
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

  it('paces range requests per peer under the server quota, abortably', async () => {
    const net = new FakeNetwork();
    const client = new PacedClient(
      { rangeQuota: { requests: 2, perMs: 200 } },
      { client: net, logger: silentLogger() },
    );
    const started = performance.now();
    await client.getBlocksByRange('p1', 1, 96); // 3 requests, 2 tokens
    assert.ok(performance.now() - started >= 90, 'the third request waited for a token');
    // Another peer has its own bucket.
    const other = performance.now();
    await client.getBlocksByRange('p2', 1, 64);
    assert.ok(performance.now() - other < 90, 'p2 did not wait for p1 tokens');
    const controller = new AbortController();
    const pending = client.getBlocksByRange('p1', 1, 32, { signal: controller.signal });
    controller.abort();
    await assert.rejects(
      pending,
      (e: unknown) => e instanceof SyncError && e.code === 'SYNC_TIMEOUT',
    );
  });

  it('maps req/resp errors: what req/resp already punished costs nothing more', async () => {
    const net = new FakeNetwork();
    const client = new PacedClient({}, { client: net, logger: silentLogger() });
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
        client.getBlocksByRange('p1', 1, 10),
        (e: unknown) => e instanceof SyncError && e.code === expected && e.penalty === penalty,
      );
    }
    assert.deepEqual(await client.getMempoolTxids('p1'), [hash(1)]);
  });

  it('asks for long transaction lists in protocol-sized batches', async () => {
    const net = new FakeNetwork();
    const client = new PacedClient({}, { client: net, logger: silentLogger() });
    const txids = Array.from({ length: MAX_TXIDS_PER_REQUEST * 2 + 1 }, (_, i) => hash(i % 256));
    await client.getTransactions('p1', txids);
    assert.deepEqual(
      net.calls.map((c) => c.args[0]),
      [MAX_TXIDS_PER_REQUEST, MAX_TXIDS_PER_REQUEST, 1],
    );
  });
});
