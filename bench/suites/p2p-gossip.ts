/**
 * P2P: gossip delivery rate of transaction-sized messages between two libp2p
 * peers over loopback (noise + yamux + gossipsub, content-hash message ids),
 * and request/response round trips, against the in-process cost of strictly
 * decoding the same messages (the floor any relay pays).
 */

import { P2P_PROTOCOL_VERSION, type StatusMessage, topicName } from '../../src/p2p/index.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { MemoryChain, spend, TestKey } from '../../test/support/mempool-fixture.ts';
import { createGossipPair } from '../../test/support/test-peer.ts';
import { type BenchResult, measureRate, size, timeOnce } from '../lib.ts';

const SUITE = 'p2p-gossip';
const MESSAGES = size(2000, 500);

export async function run(): Promise<BenchResult[]> {
  const status: StatusMessage = {
    protocolVersion: P2P_PROTOCOL_VERSION,
    chainId: 'utxod-bench',
    genesisHash: new Uint8Array(32),
    tipHeight: 0,
    tipHash: new Uint8Array(32),
    earliestHeight: 0,
  };
  const topic = topicName(status.chainId, 'tx');
  // Distinct signed transactions (distinct message ids).
  const key = new TestKey(1);
  const chain = new MemoryChain();
  const txs: Transaction[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    const coin = chain.fund(key, 1_000_000n);
    txs.push(spend([coin], 10_000n));
  }
  const encoded = txs.map((tx) => tx.encode());
  const decodeRate = await measureRate(
    () => {
      for (const bytes of encoded) Transaction.decode(bytes);
    },
    { opsPerCall: encoded.length, minMs: 500 },
  );

  const { a, b } = await createGossipPair(status, topic);
  try {
    const bId = b.libp2p.peerId.toString();
    let received = 0;
    let done: () => void = () => undefined;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    b.libp2p.services.pubsub.addEventListener('message', () => {
      if (++received === encoded.length) done();
    });
    const ms = await timeOnce(async () => {
      for (const bytes of encoded) await a.libp2p.services.pubsub.publish(topic, bytes);
      await Promise.race([all, new Promise((r) => setTimeout(r, 30_000))]);
    });
    const gossipRate = received / (ms / 1000);
    // Under the responder's quota (50 per 10 s per peer for transactions).
    const rtMs = await timeOnce(async () => {
      for (let i = 0; i < 40; i++) await a.reqResp.getTransactions(bId, [txs[i]!.txid]);
    });
    const roundTrips = 40 / (rtMs / 1000);
    return [
      {
        suite: SUITE,
        name: 'strict decode of tx messages (baseline)',
        value: decodeRate,
        unit: 'msg/s',
      },
      {
        suite: SUITE,
        name: `gossip tx messages delivered A->B (${received}/${encoded.length})`,
        value: gossipRate,
        unit: 'msg/s',
        ratio: gossipRate / decodeRate,
        baselineName: 'strict decode',
      },
      {
        suite: SUITE,
        name: 'transactions request/response round trips (40)',
        value: roundTrips,
        unit: 'req/s',
        ratio: roundTrips / decodeRate,
        baselineName: 'strict decode',
      },
    ];
  } finally {
    await a.close();
    await b.close();
  }
}
