import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** What an operator watches of the BFT engine (docs/consensus.md, "Metrics"). */
export interface ConsensusMetrics {
  readonly height: Gauge;
  readonly round: Gauge;
  readonly roundsPerHeight: Histogram;
  readonly stepSeconds: Histogram<'step'>;
  readonly proposals: Counter<'outcome'>;
  readonly roundChanges: Counter<'reason'>;
  readonly evidence: Counter<'stage'>;
  readonly catchupRequests: Counter<'result'>;
}

export function createConsensusMetrics(registry: Registry): ConsensusMetrics {
  return {
    height: new Gauge({
      name: 'utxod_consensus_height',
      help: 'Height the consensus engine is deciding',
      registers: [registry],
    }),
    round: new Gauge({
      name: 'utxod_consensus_round',
      help: 'Round of the height being decided (0 when all goes well)',
      registers: [registry],
    }),
    roundsPerHeight: new Histogram({
      name: 'utxod_consensus_rounds_per_height',
      help: 'Rounds a height took to decide (1 = decided in round 0)',
      buckets: [1, 2, 3, 4, 6, 10],
      registers: [registry],
    }),
    stepSeconds: new Histogram({
      name: 'utxod_consensus_step_duration_seconds',
      help: 'Time spent in each consensus step',
      labelNames: ['step'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers: [registry],
    }),
    proposals: new Counter({
      name: 'utxod_consensus_proposals_total',
      help: 'Proposals by outcome: own (this validator proposed), valid, invalid, missed (propose timeout without one)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    roundChanges: new Counter({
      name: 'utxod_consensus_round_changes_total',
      help: 'Moves to a round above 0, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    evidence: new Counter({
      name: 'utxod_consensus_evidence_total',
      help: 'Duplicate-vote evidence, by stage (seen: detected from votes; committed: in a connected block)',
      labelNames: ['stage'],
      registers: [registry],
    }),
    catchupRequests: new Counter({
      name: 'utxod_consensus_catchup_requests_total',
      help: 'Requests to a peer for the votes and proposal of a stalled round, by result',
      labelNames: ['result'],
      registers: [registry],
    }),
  };
}
