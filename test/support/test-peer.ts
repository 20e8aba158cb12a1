/**
 * A bare libp2p peer for tests (fuzzing, handshakes): the same transports,
 * gossip settings and request/response engine as the node, serving a status
 * it is told to claim and nothing else.
 */
import { noise } from '@chainsafe/libp2p-noise';
import { generateKeyPair } from '@libp2p/crypto/keys';
import type { GossipSub } from '@libp2p/gossipsub';
import { identify } from '@libp2p/identify';
import type { Libp2p, PrivateKey } from '@libp2p/interface';
import { tcp } from '@libp2p/tcp';
import { yamux } from '@libp2p/yamux';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import { silentLogger } from '../../src/logger/index.ts';
import { gossipService } from '../../src/p2p/gossip.ts';
import type { StatusMessage } from '../../src/p2p/messages.ts';
import { ReqResp } from '../../src/p2p/reqresp/engine.ts';
import { TOPIC_KINDS, topicName } from '../../src/p2p/topics.ts';

export interface TestPeer {
  readonly privateKey: PrivateKey;
  readonly libp2p: Libp2p<{ identify: unknown; pubsub: GossipSub }>;
  readonly reqResp: ReqResp;
  /** Penalties the peer's own engine gave (peer id, reason). */
  readonly penalties: Array<{ peerId: string; penalty: number; reason: string }>;
  close(): Promise<void>;
}

export async function createTestPeer(opts: {
  status: StatusMessage;
  /** Subscribe to this chain's topics (so it can publish to them). */
  subscribe?: boolean;
  logger?: Logger;
  /** Reuse an identity (e.g. to check that a banned peer stays refused). */
  privateKey?: PrivateKey;
  /** libp2p's whole-dial timeout (default 10 s): a handshake with a node on a loaded machine can take longer. */
  dialTimeoutMs?: number;
}): Promise<TestPeer> {
  const chainId = opts.status.chainId;
  const privateKey = opts.privateKey ?? (await generateKeyPair('Ed25519'));
  const libp2p = await createLibp2p({
    privateKey,
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    ...(opts.dialTimeoutMs === undefined
      ? {}
      : { connectionManager: { dialTimeout: opts.dialTimeoutMs } }),
    services: {
      identify: identify(),
      pubsub: gossipService({ allowedTopics: TOPIC_KINDS.map((k) => topicName(chainId, k)) }),
    },
  });
  const penalties: TestPeer['penalties'] = [];
  const reqResp = new ReqResp({
    libp2p,
    logger: opts.logger ?? silentLogger(),
    metrics: null,
    penalize: (peerId, penalty, reason) => penalties.push({ peerId, penalty, reason }),
    context: {
      chain: {
        tipHeight: opts.status.tipHeight,
        getHashAt: async () => undefined,
        getBlockAt: async () => undefined,
        getBlockByHash: async () => undefined,
        getCommitAt: async () => undefined,
      },
      mempool: { get: () => undefined, entries: () => [] },
      localStatus: () => opts.status,
      onRemoteStatus: () => undefined,
    },
  });
  await reqResp.start();
  if (opts.subscribe === true) {
    for (const kind of TOPIC_KINDS) libp2p.services.pubsub.subscribe(topicName(chainId, kind));
  }
  return {
    privateKey,
    libp2p,
    reqResp,
    penalties,
    async close() {
      await reqResp.stop();
      await libp2p.stop();
    },
  };
}

/** Two subscribed test peers, A dialled to B, once A sees B subscribed to `topic` (or after 5 s). */
export async function createGossipPair(
  status: StatusMessage,
  topic: string,
): Promise<{ a: TestPeer; b: TestPeer }> {
  const a = await createTestPeer({ status, subscribe: true });
  const b = await createTestPeer({ status, subscribe: true });
  await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]!);
  const bId = b.libp2p.peerId.toString();
  for (let i = 0; i < 100; i++) {
    if (a.libp2p.services.pubsub.getSubscribers(topic).some((p) => p.toString() === bId)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { a, b };
}
