/**
 * A peer that claims a tip far ahead and serves nothing, against a real
 * P2PHost with block sync wired as the node wires it, over loopback libp2p:
 * the node stays ready and relays transactions, the liar is penalised until
 * it is banned, and a second identity from the same address changes nothing
 * either (issue #15, P2P).
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { multiaddr } from '@multiformats/multiaddr';
import { buildTransaction } from '../../src/client/tx-builder.ts';
import { silentLogger } from '../../src/logger/index.ts';
import { BlockSyncer, PacedClient } from '../../src/p2p/sync/index.ts';
import { topicName } from '../../src/p2p/topics.ts';
import { encodeTxBatch } from '../../src/p2p/tx-batch.ts';
import { COIN } from '../../src/primitives/amount.ts';
import { pubkeyLock } from '../../src/primitives/lock.ts';
import { CHAIN_ID, testKey } from '../support/chain-fixture.ts';
import { type HostFixture, startTestHost } from '../support/p2p-host.ts';
import { createTestPeer, type TestPeer } from '../support/test-peer.ts';

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const thing of open.reverse()) await thing.close().catch(() => undefined);
});

async function until(what: string, test: () => boolean | Promise<boolean>, ms = 20_000) {
  const deadline = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function connect(h: HostFixture, status: ReturnType<HostFixture['status']>) {
  const peer = await createTestPeer({ status, subscribe: true });
  open.push(peer);
  await peer.libp2p.dial(multiaddr(h.host.listenAddrs[0]!));
  return peer;
}

function liarStatus(h: HostFixture) {
  const status = h.status();
  return { ...status, tipHeight: status.tipHeight + 1_000, tipHash: new Uint8Array(32).fill(0xee) };
}

const banned = async (h: HostFixture, p: TestPeer) =>
  (await h.host.listBans()).some((b) => b.peerId === p.libp2p.peerId.toString());

describe('a peer lying about its tip', { timeout: 180_000 }, () => {
  it('leaves the node ready and relaying, is banned fast, and new identities do no better', async () => {
    const h = await startTestHost({}, { blocks: 3 });
    open.push(h);
    const logger = silentLogger();
    const syncer = new BlockSyncer(
      { peerCooldownMs: 200, statusIntervalMs: 500 },
      {
        chain: h.chain.chain,
        importer: h.importer,
        peers: h.host,
        client: new PacedClient({}, { client: h.host.reqResp, logger }),
        signatures: null,
        mempool: h.mempool,
        logger,
        metrics: null,
      },
    );
    open.push({ close: () => syncer.stop() });
    h.host.setTransactionDeferral(syncer);
    syncer.start();

    // An honest peer at our height: the node is synced.
    const honest = await connect(h, h.status());
    await until('synced', () => syncer.state === 'synced');

    // What /health/ready and gossip relay read, sampled all along.
    let lapses = 0;
    const watch = setInterval(() => {
      if (syncer.isFarBehind(10) || syncer.deferringTransactions) lapses++;
    }, 10);
    try {
      const liar = await connect(h, liarStatus(h));
      // Each round: a probe, a refutation, a fresh status (6 s); four rounds ban it.
      await until('the liar banned', () => banned(h, liar), 60_000);

      // Fresh keys from the same address, two at once so that they "agree":
      // many identities on one host are one voice, and each starts unbacked.
      const again = await Promise.all([connect(h, liarStatus(h)), connect(h, liarStatus(h))]);
      await until('the new identities to be seen', () =>
        again.every((p) => h.host.handshakenPeerIds.includes(p.libp2p.peerId.toString())),
      );
      // While they claim, a transaction gossiped to the node goes straight to its mempool.
      const owner = testKey(2);
      const genesis = await h.chain.chain.requireBlockAt(0);
      const allocation = genesis.txs[0]!;
      const tx = buildTransaction({
        chainId: CHAIN_ID,
        coins: [{ outpoint: { txid: allocation.txid, index: 0 }, ...allocation.outputs[0]! }],
        outputs: [{ amount: COIN, lock: pubkeyLock(testKey(99).publicKey) }],
        changeLock: pubkeyLock(owner.publicKey),
        feeRate: 2_000n,
        keys: [owner],
      });
      await until('the gossiped transaction in the mempool', async () => {
        await honest.libp2p.services.pubsub
          .publish(topicName(CHAIN_ID, 'tx'), encodeTxBatch([tx.encode()]))
          .catch(() => undefined);
        return h.mempool.has(tx.txid);
      });
      for (const p of again) await until('each new identity banned', () => banned(h, p), 60_000);
    } finally {
      clearInterval(watch);
    }
    assert.equal(lapses, 0, 'the node never reported itself far behind nor held back relay');
    assert.equal(syncer.state, 'synced');
    assert.equal(syncer.status().targetHeight, h.chain.chain.tipHeight);
  });
});
