/**
 * Attacks on a real P2PHost on loopback by real libp2p peers: requests before
 * the status handshake, redialling to refill request quotas, and a banned
 * host coming back under fresh identities.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { peerIdFromString } from '@libp2p/peer-id';
import { lpStream } from '@libp2p/utils';
import { multiaddr } from '@multiformats/multiaddr';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import { blocksByRangeProtocol } from '../../src/p2p/reqresp/protocols/blocks-by-range.ts';
import { mempoolTxidsProtocol } from '../../src/p2p/reqresp/protocols/mempool-txids.ts';
import { statusProtocol } from '../../src/p2p/reqresp/protocols/status.ts';
import { type HostFixture, startTestHost } from '../support/p2p-host.ts';
import { createTestPeer, type TestPeer } from '../support/test-peer.ts';

const open: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const thing of open.reverse()) await thing.close().catch(() => undefined);
});

async function host(opts: Parameters<typeof startTestHost>[0] = {}, blocks = 0) {
  const h = await startTestHost(opts, { blocks });
  open.push(h);
  return h;
}

async function peer(h: HostFixture, status = h.status(), privateKey?: TestPeer['privateKey']) {
  const p = await createTestPeer({ status, ...(privateKey === undefined ? {} : { privateKey }) });
  open.push(p);
  return p;
}

/** Dials the host; true when the connection is still open half a second later. */
async function stays(p: TestPeer, h: HostFixture): Promise<boolean> {
  try {
    await p.libp2p.dial(multiaddr(h.host.listenAddrs[0]!), { signal: AbortSignal.timeout(5000) });
  } catch {
    return false;
  }
  await sleep(500);
  return p.libp2p.getConnections(peerIdFromString(h.host.peerId)).some((c) => c.status === 'open');
}

describe('p2p attacks', { timeout: 120_000 }, () => {
  it('serves nothing but status before the status handshake succeeded', async () => {
    const h = await host({}, 2);
    const stranger = await peer(h, {
      ...h.status(),
      genesisHash: new Uint8Array(32).fill(7),
      protocolVersion: P2P_PROTOCOL_VERSION,
    });
    // It never answers the host's status request (the host waits up to 10 s)...
    await stranger.libp2p.unhandle(statusProtocol.protocolId);
    await stranger.libp2p.handle(statusProtocol.protocolId, () => undefined);
    await stranger.libp2p.dial(multiaddr(h.host.listenAddrs[0]!));
    // ...and asks for blocks straight away, without sending its own status.
    await assert.rejects(
      stranger.reqResp.getBlocksByRange(h.host.peerId, 0, 2),
      /status handshake first/,
    );
    // Its status, of another genesis, in its own request does not open the door either.
    await stranger.reqResp.getStatus(h.host.peerId).catch(() => undefined);
    await assert.rejects(stranger.reqResp.getBlocksByRange(h.host.peerId, 0, 2));
    // A peer of this chain that sent its status is served at once.
    const friend = await peer(h);
    await friend.libp2p.dial(multiaddr(h.host.listenAddrs[0]!));
    await friend.reqResp.getStatus(h.host.peerId);
    assert.equal((await friend.reqResp.getBlocksByRange(h.host.peerId, 1, 2)).length, 2);
  });

  it('keeps request quotas across reconnects', async () => {
    const h = await host();
    const p = await peer(h);
    const addr = multiaddr(h.host.listenAddrs[0]!);
    await p.libp2p.dial(addr);
    await p.reqResp.getStatus(h.host.peerId);
    const quota = mempoolTxidsProtocol.quota.requests;
    for (let i = 0; i < quota; i++) await p.reqResp.getMempoolTxids(h.host.peerId);
    await assert.rejects(p.reqResp.getMempoolTxids(h.host.peerId), /rate limited/);
    // Hang up and come back with the same identity: the bucket is still empty.
    await p.libp2p.hangUp(peerIdFromString(h.host.peerId));
    await sleep(200);
    await p.libp2p.dial(addr);
    await p.reqResp.getStatus(h.host.peerId);
    await assert.rejects(p.reqResp.getMempoolTxids(h.host.peerId), /rate limited/);
  });

  it('refuses a banned address under a new identity, and bounds identities per address', async () => {
    const h = await host({ addressLimitExempt: [], maxIdentitiesPerIp: 4 });
    const bad = await peer(h);
    assert.ok(await stays(bad, h));
    await bad.reqResp.getStatus(h.host.peerId);
    // A malformed request costs the whole score: banned, with its address.
    const stream = await bad.libp2p.dialProtocol(
      peerIdFromString(h.host.peerId),
      blocksByRangeProtocol.protocolId,
    );
    await lpStream(stream).write(Uint8Array.of(1, 2, 3));
    await stream.close().catch(() => undefined);
    for (let i = 0; i < 50 && (await h.host.listBans()).length === 0; i++) await sleep(100);
    assert.equal((await h.host.listBans())[0]?.peerId, bad.libp2p.peerId.toString());
    const fresh = await peer(h);
    assert.equal(await stays(fresh, h), false, 'a new identity from a banned address is refused');

    // Identity churn from an address that is not banned.
    const h2 = await host({ addressLimitExempt: [], maxIdentitiesPerIp: 4 });
    for (let i = 0; i < 4; i++) {
      const p = await peer(h2);
      assert.ok(await stays(p, h2), `identity ${i + 1} of 4`);
      await p.close();
    }
    assert.equal(await stays(await peer(h2), h2), false, 'the fifth identity is refused');
  });
});
