/**
 * Peers that began from a snapshot hold no blocks below their earliest
 * height, and say so in their status: block sync never asks them for a range
 * that starts below it, and does not hold it against them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestChain } from '../../../test/support/chain-fixture.ts';
import {
  buildSourceChain,
  MemoryNetwork,
  MemoryPeer,
  type MemoryPeerBehaviour,
  openSyncTarget,
  type SourceChain,
} from '../../../test/support/sync-fixture.ts';
import { SignatureChecker } from '../../consensus/signatures.ts';
import { silentLogger } from '../../logger/index.ts';
import { bytesEqual } from '../../util/bytes.ts';
import { BlockSyncer } from './syncer.ts';

const BLOCKS = 240;
const SNAPSHOT = 160;
let source: SourceChain;
const opened: TestChain[] = [];

before(async () => {
  source = await buildSourceChain({ blocks: BLOCKS, txsPerBlock: 1 });
});

after(async () => {
  for (const t of opened) await t.destroy();
  await source.t.destroy();
});

async function setup(peers: Array<{ id: string; behaviour?: MemoryPeerBehaviour }>) {
  const target = await openSyncTarget(source);
  opened.push(target.t);
  const network = new MemoryNetwork(source);
  const memoryPeers = peers.map((p) => new MemoryPeer(p.id, source, p.behaviour));
  for (const peer of memoryPeers) await network.add(peer);
  const syncer = new BlockSyncer(
    { requestTimeoutMs: 10_000, statusIntervalMs: 200, statusMaxAgeMs: 0, peerCooldownMs: 300 },
    {
      chain: target.t.chain,
      importer: target.importer,
      peers: network,
      client: network,
      signatures: new SignatureChecker({ verifier: target.t.verifier, cache: null }),
      mempool: target.mempool,
      logger: silentLogger(),
      metrics: null,
    },
  );
  return { target, peers: memoryPeers, syncer };
}

async function until(test: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('block sync and peers that began from a snapshot', () => {
  it('asks a snapshot peer only for heights it holds; the full peer serves the history', async () => {
    const { target, peers, syncer } = await setup([
      { id: 'snapshot', behaviour: { earliest: SNAPSHOT } },
      { id: 'archive' },
    ]);
    syncer.start();
    await until(() => target.t.chain.tipHeight === BLOCKS, 60_000, 'synced');
    await syncer.stop();
    assert.ok(bytesEqual(target.t.chain.tip.hash, (await source.t.chain.getHashAt(BLOCKS))!));
    const [snapshot, archive] = peers;
    for (const r of snapshot!.requests) assert.ok(r.start >= SNAPSHOT, JSON.stringify(r));
    assert.ok(archive!.requests.some((r) => r.start < SNAPSHOT));
    assert.deepEqual(snapshot!.penalties, []);
    assert.deepEqual(archive!.penalties, []);
  });

  it('a snapshot peer alone is never asked for blocks below its earliest height', async () => {
    const { target, peers, syncer } = await setup([
      { id: 'snapshot', behaviour: { earliest: SNAPSHOT } },
    ]);
    syncer.start();
    // Long enough for several status rounds and scheduling passes.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await syncer.stop();
    // Nothing below its earliest height can come from it, so nothing connects...
    assert.equal(target.t.chain.tipHeight, 0);
    // ...and it may be asked ahead for what it holds, but never for what it does not.
    for (const r of peers[0]!.requests) assert.ok(r.start >= SNAPSHOT, JSON.stringify(r));
    assert.deepEqual(peers[0]!.penalties, []);
  });
});
