import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createConsensusMetrics } from '../../metrics/index.ts';
import { ValidatorSet } from '../validator-set.ts';
import { createState, step } from './engine.ts';
import { ConsensusObserver } from './observer.ts';
import { ProposerPriorities } from './proposer.ts';
import { type BftEvent, type BftState, DEFAULT_BFT_PARAMS } from './types.ts';

function key(n: number): Uint8Array {
  const k = new Uint8Array(33);
  k[0] = 2;
  k[32] = n;
  return k;
}

async function value(registry: Registry, name: string, labels: Record<string, string> = {}) {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  assert.ok(metric, name);
  const sample = metric.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return sample?.value ?? 0;
}

describe('consensus observer', () => {
  it('counts a missed proposal, the round change it causes, and the time spent in each step', async () => {
    const registry = new Registry();
    let now = 0;
    const observer = new ConsensusObserver(createConsensusMetrics(registry), () => now);
    // Validator 4 of 4: validator 1 proposes round 0 and stays silent.
    const set = new ValidatorSet([1, 2, 3, 4].map((n) => ({ publicKey: key(n), power: 1n })));
    let state: BftState<string> = createState<string>({
      params: DEFAULT_BFT_PARAMS,
      height: 7,
      proposers: ProposerPriorities.genesis(set),
      self: key(4),
    });
    const feed = (event: BftEvent<string>, advanceMs: number) => {
      now += advanceMs;
      const result = step(state, event);
      observer.observe(state, event, result.state, result.actions);
      state = result.state;
    };
    feed({ kind: 'start' }, 0);
    assert.equal(await value(registry, 'utxod_consensus_height'), 7);
    feed({ kind: 'timeout', height: 7, round: 0, step: 'propose' }, 3000);
    assert.equal(
      await value(registry, 'utxod_consensus_proposals_total', { outcome: 'missed' }),
      1,
    );
    assert.equal(state.step, 'prevote');
    const metric = (await registry.getMetricsAsJSON()).find(
      (m) => m.name === 'utxod_consensus_step_duration_seconds',
    )!;
    const sum = metric.values.find(
      (v) =>
        v.labels['step'] === 'propose' &&
        String((v as { metricName?: string }).metricName).endsWith('_sum'),
    );
    assert.equal(sum?.value, 3);
    // A stale timeout of another round counts nothing.
    feed({ kind: 'timeout', height: 7, round: 5, step: 'propose' }, 0);
    assert.equal(
      await value(registry, 'utxod_consensus_proposals_total', { outcome: 'missed' }),
      1,
    );
    // Prevote and precommit time out without a quorum: round 1, counted with its reason.
    feed({ kind: 'timeout', height: 7, round: 0, step: 'prevote' }, 1000);
    feed({ kind: 'timeout', height: 7, round: 0, step: 'precommit' }, 1000);
    assert.equal(state.round, 1);
    assert.equal(await value(registry, 'utxod_consensus_round'), 1);
    assert.equal(
      await value(registry, 'utxod_consensus_round_changes_total', { reason: 'timeout' }),
      1,
    );
  });
});
