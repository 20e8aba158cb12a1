/**
 * Transaction gossip, one message per transaction (tx/1) against batch
 * messages (tx/2, src/p2p/tx-batch.ts), between two libp2p peers over
 * loopback: transactions delivered and decoded per CPU-second of the process
 * that runs both peers. CPU time, not wall time, so that other load on the
 * machine moves the figure less; the two ways alternate over the rounds.
 */
import { P2P_PROTOCOL_VERSION, topicName } from '../../src/p2p/index.ts';
import { decodeTxBatch, encodeTxBatch } from '../../src/p2p/tx-batch.ts';
import { Transaction } from '../../src/primitives/transaction.ts';
import { MemoryChain, spend, TestKey } from '../../test/support/mempool-fixture.ts';
import { createGossipPair } from '../../test/support/test-peer.ts';
import { alternate, type BenchResult, median, pairedRatio, size, spreadOf } from '../lib.ts';

const SUITE = 'tx-gossip';
const GENESIS_ONLY = {
  protocolVersion: P2P_PROTOCOL_VERSION,
  genesisHash: new Uint8Array(32),
  earliestHeight: 0,
  tipHeight: 0,
  tipHash: new Uint8Array(32),
};
const TXS_PER_ROUND = size(600, 100);
const ROUNDS = 3;
/** What 20 ms of admissions hold at ~1,600 tx/s per node. */
const BATCH = 32;

export async function run(): Promise<BenchResult[]> {
  // Both peers hold the same (empty) chain: only the status handshake looks at it.
  const status = { ...GENESIS_ONLY, chainId: 'utxod-bench' };
  const topic = topicName(status.chainId, 'tx');
  const key = new TestKey(1);
  const chain = new MemoryChain();
  // Distinct transactions for every round of each way: a repeated message id is dropped unseen.
  const fresh = (): Uint8Array[] =>
    Array.from({ length: TXS_PER_ROUND }, () =>
      spend([chain.fund(key, 1_000_000n)], 10_000n).encode(),
    );
  const sets = { single: [] as Uint8Array[][], batched: [] as Uint8Array[][] };
  for (let r = 0; r < ROUNDS; r++) {
    sets.single.push(fresh());
    sets.batched.push(fresh());
  }

  const { a, b } = await createGossipPair(status, topic);
  try {
    let decoded = 0;
    let batches = false;
    b.libp2p.services.pubsub.addEventListener('message', (event) => {
      const data = event.detail.data;
      if (batches) decoded += decodeTxBatch(data).length;
      else if (Transaction.decode(data) !== undefined) decoded++;
    });

    /** Transactions delivered and decoded per CPU-second (both peers are in this process). */
    const deliver = async (messages: Uint8Array[], count: number): Promise<number> => {
      decoded = 0;
      const cpu0 = process.cpuUsage();
      for (const m of messages) await a.libp2p.services.pubsub.publish(topic, m);
      for (let i = 0; i < 3000 && decoded < count; i++) await new Promise((r) => setTimeout(r, 10));
      const cpu = process.cpuUsage(cpu0);
      if (decoded < count) throw new Error(`delivered ${decoded} of ${count}`);
      return count / ((cpu.user + cpu.system) / 1e6);
    };
    const round = { single: 0, batched: 0 };
    const samples = await alternate(ROUNDS, {
      single: async () => {
        batches = false;
        return deliver(sets.single[round.single++]!, TXS_PER_ROUND);
      },
      batched: async () => {
        batches = true;
        const txs = sets.batched[round.batched++]!;
        const messages: Uint8Array[] = [];
        for (let i = 0; i < txs.length; i += BATCH)
          messages.push(encodeTxBatch(txs.slice(i, i + BATCH)));
        return deliver(messages, TXS_PER_ROUND);
      },
    });
    const { ratio, spread } = pairedRatio(samples.batched, samples.single);
    return [
      {
        suite: SUITE,
        name: 'one message per tx (tx/1, baseline)',
        value: median(samples.single),
        unit: 'tx/CPU-s',
        spread: spreadOf(samples.single),
      },
      {
        suite: SUITE,
        name: `batches of ${BATCH} (tx/2)`,
        value: median(samples.batched),
        unit: 'tx/CPU-s',
        ratio,
        baselineName: 'one message per tx',
        spread,
      },
    ];
  } finally {
    await a.close();
    await b.close();
  }
}
