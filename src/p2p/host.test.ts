/**
 * Two P2PHosts in one process over loopback: handshake, a produced block
 * gossiped to the follower, operator ban and unban through the live host,
 * and a host of another genesis refused.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  openTestChain,
  type TestChain,
  testGenesis,
  testKey,
} from '../../test/support/chain-fixture.ts';
import { BlockImporter } from '../chain/block-importer.ts';
import { SignatureChecker } from '../consensus/signatures.ts';
import { ParallelVerifier } from '../crypto/verify-pool.ts';
import { silentLogger } from '../logger/index.ts';
import { Mempool } from '../mempool/mempool.ts';
import { P2PHost } from './host.ts';

const tmp = mkdtempSync(join(tmpdir(), 'utxod-p2p-host-'));
const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  rmSync(tmp, { recursive: true, force: true });
});

async function waitFor(what: string, test: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function makeHost(name: string, chain: TestChain, bootstrap: string[] = []) {
  const verifier = await ParallelVerifier.init({ workers: 0 });
  cleanups.push(() => verifier.close());
  const signatures = new SignatureChecker({ verifier, cache: null });
  const mempool = new Mempool(
    { maxBytes: 1 << 20, minRelayFeeRate: 1000n },
    {
      params: chain.chain.params,
      chainIdHash: chain.chain.chainIdHash,
      chain: chain.chain,
      signatures,
    },
  );
  const importer = new BlockImporter({
    chain: chain.chain,
    mempool,
    metrics: null,
    logger: silentLogger(),
  });
  const host = await P2PHost.init(
    {
      host: '127.0.0.1',
      port: 0,
      bootstrap,
      maxConnections: 20,
      maxInboundPerIp: 8,
      banDurationMs: 60_000,
      identityPath: join(tmp, `${name}.key`),
      redialMs: 300,
    },
    {
      logger: silentLogger(),
      db: chain.db,
      chain: chain.chain,
      mempool,
      importer,
      metricsRegistry: null,
    },
  );
  cleanups.push(() => host.close());
  await host.start();
  return { host, importer, mempool };
}

describe('P2PHost', { timeout: 60_000 }, () => {
  it('handshakes, gossips produced blocks, bans and unbans, refuses another genesis', async () => {
    const validator = testKey(1);
    const genesis = testGenesis({ validator, funded: [testKey(2)] });
    const chainA = await openTestChain({ genesis, validator, dir: join(tmp, 'a') });
    const chainB = await openTestChain({ genesis, validator, dir: join(tmp, 'b') });
    cleanups.push(
      () => chainA.close(),
      () => chainB.close(),
    );

    const a = await makeHost('a', chainA);
    const addrA = a.host.listenAddrs[0]!;
    assert.match(addrA, /\/p2p\/12D3KooW/);
    const b = await makeHost('b', chainB, [addrA]);
    const idB = b.host.peerId;
    await waitFor(
      'handshake',
      () => a.host.connectedPeers().length === 1 && b.host.connectedPeers().length === 1,
    );
    assert.equal(a.host.status.peers, 1);
    assert.equal(a.host.connectedPeers()[0]?.peerId, idB);

    // A block the local producer imports is published; the follower imports it from gossip.
    await sleep(1500); // gossipsub heartbeat: subscriptions and mesh
    const block = await chainA.produce();
    a.importer.events.emit('block', {
      block,
      commit: chainA.commitFor(block),
      result: { height: 1, hash: block.hash, txCount: 1, fees: 0n, durationMs: 1 },
      source: 'producer',
    });
    await waitFor('the gossiped block', () => chainB.chain.tipHeight === 1);

    // Operator ban on the live host: disconnected, refused on redial, listed, then lifted.
    const ban = await a.host.ban(idB, 60_000, 'operator');
    assert.equal(ban.peerId, idB);
    await waitFor('disconnect', () => a.host.listPeers().length === 0);
    assert.deepEqual(
      (await a.host.listBans()).map((r) => r.peerId),
      [idB],
    );
    await sleep(1000); // b's bootstrap redial (every 300 ms) is refused meanwhile
    assert.equal(a.host.listPeers().length, 0);
    assert.equal(await a.host.unban(idB), true);
    await waitFor('reconnect after unban', () => a.host.connectedPeers().length === 1);

    // Another genesis (different allocations): refused at the handshake.
    const otherGenesis = testGenesis({ validator, funded: [testKey(3)] });
    const chainC = await openTestChain({ genesis: otherGenesis, validator, dir: join(tmp, 'c') });
    cleanups.push(() => chainC.close());
    const c = await makeHost('c', chainC, [addrA]);
    await sleep(1500);
    assert.equal(c.host.connectedPeers().length, 0);
    assert.ok(!a.host.connectedPeers().some((p) => p.peerId === c.host.peerId));
  });
});
