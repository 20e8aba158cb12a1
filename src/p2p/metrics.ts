import { Counter, Gauge, type Registry } from 'prom-client';

export type GossipVerdict = 'accept' | 'ignore' | 'reject';

export interface P2PMetrics {
  readonly peersConnected: Gauge;
  readonly gossipMessages: Counter<'topic' | 'verdict'>;
  readonly gossipPublished: Counter<'topic'>;
  readonly reqrespRequests: Counter<'protocol' | 'direction' | 'outcome'>;
  readonly peerPenalties: Counter<'reason'>;
  readonly bans: Counter<'reason'>;
  readonly handshakes: Counter<'outcome'>;
}

/** utxod's own p2p metrics (libp2p's internals come from @libp2p/prometheus-metrics). */
export function createP2PMetrics(registry: Registry): P2PMetrics {
  return {
    peersConnected: new Gauge({
      name: 'utxod_p2p_peers_connected',
      help: 'Connected peers',
      registers: [registry],
    }),
    gossipMessages: new Counter({
      name: 'utxod_p2p_gossip_messages_total',
      help: 'Gossip messages received, by topic kind and validation verdict',
      labelNames: ['topic', 'verdict'],
      registers: [registry],
    }),
    gossipPublished: new Counter({
      name: 'utxod_p2p_gossip_published_total',
      help: 'Gossip messages this node published, by topic kind',
      labelNames: ['topic'],
      registers: [registry],
    }),
    reqrespRequests: new Counter({
      name: 'utxod_p2p_reqresp_requests_total',
      help: 'Request/response exchanges by protocol, direction and outcome',
      labelNames: ['protocol', 'direction', 'outcome'],
      registers: [registry],
    }),
    peerPenalties: new Counter({
      name: 'utxod_p2p_peer_penalties_total',
      help: 'Score penalties given to peers, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    bans: new Counter({
      name: 'utxod_p2p_bans_total',
      help: 'Peers banned, by reason (score or operator)',
      labelNames: ['reason'],
      registers: [registry],
    }),
    handshakes: new Counter({
      name: 'utxod_p2p_handshakes_total',
      help: 'Status handshakes by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
}
