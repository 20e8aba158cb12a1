/**
 * A peer that serves corrupted snapshot chunks, which exists only here: no
 * node configuration can make a node serve wrong bytes (as with the
 * equivocator, the Byzantine party is a bare libp2p peer the harness runs).
 * It relays an honest node's snapshot offers and manifests unchanged, so a
 * syncing node takes it as one more peer offering that snapshot, and serves
 * each chunk it is asked for with one byte flipped.
 */
import { multiaddr } from '@multiformats/multiaddr';
import { P2P_PROTOCOL_VERSION } from '../../src/p2p/messages.ts';
import {
  type SnapshotSource,
  snapshotChunkProtocol,
  snapshotManifestProtocol,
  snapshotsProtocol,
} from '../../src/p2p/reqresp/protocols/snapshots.ts';
import { fromHex } from '../../src/util/index.ts';
import { createTestPeer, type TestPeer } from '../../test/support/test-peer.ts';
import { sleep } from './load.ts';

export class CorruptSnapshotPeer {
  /** Chunks it served corrupted: the snapshot height and the chunk index. */
  readonly corrupted: Array<{ height: number; index: number }> = [];
  private readonly peer: TestPeer;
  private readonly source: string;

  private constructor(peer: TestPeer, source: string) {
    this.peer = peer;
    this.source = source;
  }

  get peerId(): string {
    return this.peer.libp2p.peerId.toString();
  }

  /** Connects to the honest node at `sourceAddress` whose snapshots it relays. */
  static async start(opts: {
    chainId: string;
    genesisHash: string;
    sourceAddress: string;
  }): Promise<CorruptSnapshotPeer> {
    const genesisHash = fromHex(opts.genesisHash, 32);
    const peer = await createTestPeer({
      status: {
        protocolVersion: P2P_PROTOCOL_VERSION,
        chainId: opts.chainId,
        genesisHash,
        earliestHeight: 0,
        tipHeight: 0,
        tipHash: genesisHash,
      },
      dialTimeoutMs: 60_000,
    });
    const self = new CorruptSnapshotPeer(peer, peerIdOf(opts.sourceAddress));
    try {
      await self.dial(opts.sourceAddress);
    } catch (error) {
      await peer.close();
      throw error;
    }
    const rr = peer.reqResp;
    const source: SnapshotSource = {
      offers: () => rr.request(self.source, snapshotsProtocol, null),
      manifest: async (height, id) =>
        (await rr.request(self.source, snapshotManifestProtocol, { height, id }))[0] ?? null,
      chunk: async (height, id, index) => {
        const bytes = (
          await rr.request(self.source, snapshotChunkProtocol, { height, id, index })
        )[0];
        if (bytes === undefined) return null;
        const wrong = Uint8Array.from(bytes);
        // A byte past the chunk's index and count, inside its records.
        const at = Math.min(wrong.length - 1, 8 + (index % Math.max(1, wrong.length - 8)));
        wrong[at] = wrong[at]! ^ 0x01;
        self.corrupted.push({ height, index });
        return wrong;
      },
    };
    peer.reqResp.setSnapshotSource(source);
    return self;
  }

  /**
   * Dials a node, again until `withinMs` passed: a node just started is not
   * listening yet, and a Noise handshake with a node on a loaded machine can
   * time out.
   */
  async dial(address: string, withinMs = 120_000): Promise<void> {
    const ma = multiaddr(address);
    const deadline = Date.now() + withinMs;
    for (;;) {
      try {
        await this.peer.libp2p.dial(ma, { signal: AbortSignal.timeout(60_000) });
        await this.peer.reqResp.getStatus(peerIdOf(address));
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(1_000);
      }
    }
  }

  /** Whether a connection to `peerId` is open (a node that banned this peer closed it). */
  connectedTo(peerId: string): boolean {
    return this.peer.libp2p.getConnections().some((c) => c.remotePeer.toString() === peerId);
  }

  async close(): Promise<void> {
    await this.peer.close();
  }
}

export function peerIdOf(address: string): string {
  const id = address.split('/p2p/')[1];
  if (id === undefined || id === '') throw new Error(`no peer id in ${address}`);
  return id;
}
