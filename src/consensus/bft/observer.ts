/**
 * Turns the engine's transitions into metrics: the driver hands it each
 * (state before, event, state after, actions) and it never influences them.
 * Step durations use the monotonic clock of this process; they are for
 * operators, not for consensus.
 */
import type { ConsensusMetrics } from '../../metrics/index.ts';
import type { BftAction, BftEvent, BftState } from './types.ts';

export class ConsensusObserver {
  private readonly metrics: ConsensusMetrics;
  private readonly now: () => number;
  private stepStartedMs: number;

  constructor(metrics: ConsensusMetrics, now: () => number = () => performance.now()) {
    this.metrics = metrics;
    this.now = now;
    this.stepStartedMs = now();
  }

  observe<B>(
    before: BftState<B>,
    event: BftEvent<B>,
    after: BftState<B>,
    actions: readonly BftAction<B>[],
  ): void {
    const m = this.metrics;
    if (
      before.step !== after.step ||
      before.round !== after.round ||
      before.height !== after.height
    ) {
      const now = this.now();
      m.stepSeconds.observe({ step: before.step }, (now - this.stepStartedMs) / 1000);
      this.stepStartedMs = now;
    }
    if (after.height > before.height) m.roundsPerHeight.observe(before.round + 1);
    m.height.set(after.height);
    m.round.set(after.round);
    if (event.kind === 'proposal-validated') {
      m.proposals.inc({ outcome: event.valid ? 'valid' : 'invalid' });
    } else if (
      event.kind === 'timeout' &&
      event.step === 'propose' &&
      event.height === before.height &&
      event.round === before.round &&
      before.step === 'propose' &&
      (before.rounds.get(before.round)?.proposal ?? null) === null
    ) {
      m.proposals.inc({ outcome: 'missed' });
    }
    for (const action of actions) {
      if (action.kind === 'round-changed' && action.round > 0)
        m.roundChanges.inc({ reason: action.reason });
      else if (action.kind === 'evidence') m.evidence.inc({ stage: 'seen' });
    }
  }

  ownProposal(): void {
    this.metrics.proposals.inc({ outcome: 'own' });
  }
}
