import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import {
  type Range,
  type RangeFault,
  RangeScheduler,
  type RangeSchedulerHooks,
} from './range-scheduler.ts';

/**
 * The scheduler knows nothing of blocks: here the items are plain numbers
 * (as snapshot chunks would be indexes), served by scripted peers.
 */
type Answer = number[] | 'stall' | Error | Promise<number[]>;

function harness(peers: Record<string, (start: number, count: number) => Answer>) {
  const clock = new ManualClock();
  const faults: RangeFault[] = [];
  const served: Array<{ peerId: string; start: number; count: number; partial: boolean }> = [];
  const hooks: RangeSchedulerHooks<number> = {
    assign: (range, _now, inflight) => {
      const id = Object.keys(peers).find((p) => !range.excluded.has(p) && inflight(p) < 1);
      return id === undefined
        ? null
        : { peerId: id, count: range.count, timeoutMs: 1_000, probe: false };
    },
    fetch: (peerId, start, count, signal) => {
      const answer = peers[peerId]!(start, count);
      if (answer instanceof Error) return Promise.reject(answer);
      if (answer instanceof Promise) return answer;
      if (answer === 'stall')
        return new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      return Promise.resolve(answer);
    },
    verify: async (range, items) =>
      items.every((item, i) => item === range.start + i)
        ? { ok: true }
        : { ok: false, penalty: 100, code: 'WRONG', reason: 'not the asked indexes' },
    itemBytes: () => 10,
    onFault: (fault) => faults.push(fault),
    onServed: (peerId, range, _items, _ms, partial) =>
      served.push({ peerId, start: range.start, count: range.count, partial }),
    onCheckError: () => undefined,
    onChange: () => undefined,
  };
  const scheduler = new RangeScheduler<number>(
    { rangeSize: 10, maxRangesInFlight: 4, maxBufferedBytes: 1_000 },
    { hooks, clock },
  );
  return { scheduler, clock, faults, served };
}

const honest = (start: number, count: number) => Array.from({ length: count }, (_, i) => start + i);
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('RangeScheduler', () => {
  it('spreads ranges over peers, splits a partial answer, and hands ranges out in order', async () => {
    const { scheduler, served } = harness({
      a: honest,
      b: (start, count) => honest(start, Math.min(count, 4)),
    });
    scheduler.extend(1, 20);
    assert.deepEqual(
      scheduler.ranges.map((r) => [r.start, r.count]),
      [
        [1, 10],
        [11, 10],
      ],
    );
    scheduler.assignAll(0);
    await settle();
    assert.deepEqual(served, [
      { peerId: 'a', start: 1, count: 10, partial: false },
      { peerId: 'b', start: 11, count: 4, partial: true },
    ]);
    // The rest of b's range was split off, pending.
    assert.deepEqual(
      scheduler.ranges.map((r) => [r.start, r.count, r.state]),
      [
        [1, 10, 'ready'],
        [11, 4, 'ready'],
        [15, 6, 'pending'],
      ],
    );
    assert.equal(scheduler.bufferedBytes, 140);
    const first = scheduler.takeReady() as Range<number>;
    assert.deepEqual(first.items, honest(1, 10));
    scheduler.complete(first);
    assert.equal(scheduler.bufferedBytes, 40);
    assert.equal(scheduler.ranges[0]!.start, 11);
  });

  it('moves a range away from a peer that stalls, fails or serves the wrong items', async () => {
    const { scheduler, clock, faults } = harness({
      staller: () => 'stall',
      failer: () => new Error('reset'),
      wrong: (start, count) => honest(start + 1, count),
      empty: () => [],
    });
    scheduler.extend(1, 31);
    scheduler.assignAll(0);
    await settle();
    clock.advance(1_000);
    const kinds = faults.map((f) => [f.peerId, f.kind]).sort();
    assert.deepEqual(kinds, [
      ['empty', 'empty'],
      ['failer', 'failed'],
      ['staller', 'timeout'],
      ['wrong', 'invalid'],
    ]);
    for (const range of scheduler.ranges) {
      assert.equal(range.state, 'pending');
      assert.equal(range.excluded.size, 1, 'the peer that failed it is excluded');
    }
    assert.equal(scheduler.inFlight, 0);
    assert.equal(scheduler.inflight('staller'), 0);
  });

  it('ignores a late answer to an attempt it gave up', async () => {
    let release: (items: number[]) => void = () => undefined;
    const { scheduler, clock, served, faults } = harness({
      slow: () =>
        new Promise<number[]>((resolve) => {
          release = resolve;
        }),
    });
    scheduler.extend(1, 1);
    scheduler.assignAll(0);
    clock.advance(1_000);
    assert.equal(faults[0]?.kind, 'timeout');
    release(honest(1, 10));
    await settle();
    assert.deepEqual(served, []);
    assert.equal(scheduler.ranges[0]!.state, 'pending');
  });
});
