/**
 * The small gossip interface the node uses, and its adapter over
 * @libp2p/gossipsub (so the pubsub package can change without touching the
 * validators). Message ids are content hashes of topic + data: the same
 * transaction or block published by two nodes is one message.
 */
import { type GossipSub, gossipsub, TopicValidatorResult } from '@libp2p/gossipsub';
import type { Logger } from 'pino';
import { sha256 } from '../crypto/index.ts';
import { asError } from '../util/index.ts';

export type Verdict = 'accept' | 'ignore' | 'reject';

/** Validates one received message; must never throw (a throw counts as reject). */
export type GossipValidator = (peerId: string, data: Uint8Array) => Promise<Verdict>;

/** Largest gossip RPC frame read from a peer (a block message is ~2.1 MiB at most). */
export const MAX_GOSSIP_RPC_BYTES = 4 * 1024 * 1024;

export function messageId(topic: string, data: Uint8Array): Uint8Array {
  const topicBytes = new TextEncoder().encode(topic);
  const buf = new Uint8Array(topicBytes.length + 1 + data.length);
  buf.set(topicBytes, 0);
  buf[topicBytes.length] = 0;
  buf.set(data, topicBytes.length + 1);
  return sha256(buf);
}

/** The gossipsub service factory with utxod's settings. */
export function gossipService(opts: { allowedTopics: string[] }) {
  return gossipsub({
    allowPublishToZeroTopicPeers: true,
    ignoreDuplicatePublishError: true,
    emitSelf: false,
    globalSignaturePolicy: 'StrictNoSign',
    msgIdFn: (msg) => messageId(msg.topic, msg.data),
    maxInboundDataLength: MAX_GOSSIP_RPC_BYTES,
    allowedTopics: opts.allowedTopics,
    // A block is relayed only once it is imported, which can take a while.
    messageProcessingConcurrency: 16,
    // Connections per IP are bounded by our own gater (maxInboundPerIp); gossipsub's
    // colocation penalty would otherwise graylist every peer of a loopback or NAT network.
    scoreParams: { IPColocationFactorWeight: 0 },
  });
}

export class Gossip {
  private readonly pubsub: GossipSub;
  private readonly logger: Logger;

  constructor(modules: { pubsub: GossipSub; logger: Logger }) {
    this.pubsub = modules.pubsub;
    this.logger = modules.logger;
  }

  subscribe(topic: string, validator: GossipValidator): void {
    this.pubsub.topicValidators.set(topic, async (peer, message) => {
      let verdict: Verdict;
      try {
        verdict = await validator(peer.toString(), message.data);
      } catch (error) {
        this.logger.warn({ err: asError(error), topic }, 'gossip validator threw');
        verdict = 'reject';
      }
      return verdict === 'accept'
        ? TopicValidatorResult.Accept
        : verdict === 'ignore'
          ? TopicValidatorResult.Ignore
          : TopicValidatorResult.Reject;
    });
    this.pubsub.subscribe(topic);
  }

  unsubscribeAll(): void {
    for (const topic of this.pubsub.getTopics()) {
      this.pubsub.unsubscribe(topic);
      this.pubsub.topicValidators.delete(topic);
    }
  }

  /** Publishes `data`; resolves with the number of peers it was sent to (0 is fine). */
  async publish(topic: string, data: Uint8Array): Promise<number> {
    const result = await this.pubsub.publish(topic, data);
    return result.recipients.length;
  }

  /** Peers subscribed to `topic`. */
  subscribers(topic: string): number {
    return this.pubsub.getSubscribers(topic).length;
  }
}
