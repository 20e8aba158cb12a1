import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '../../../test/support/manual-clock.ts';
import { InboundQuota } from './rate-limiter.ts';

describe('InboundQuota', () => {
  it('refills evenly with the injected clock, per peer, and lets a charge go into debt', () => {
    const clock = new ManualClock();
    const quota = new InboundQuota({ requests: 4, perMs: 1_000 }, { clock });
    for (let i = 0; i < 4; i++) assert.equal(quota.take('a'), true);
    assert.equal(quota.take('a'), false);
    assert.equal(quota.take('b'), true, 'another peer has its own bucket');
    clock.advance(249);
    assert.equal(quota.take('a'), false);
    clock.advance(1);
    assert.equal(quota.take('a'), true, 'one token per 250 ms');
    quota.charge('a', 3);
    assert.equal(quota.hasCredit('a'), false);
    clock.advance(750);
    assert.equal(quota.hasCredit('a'), false, 'the debt of 3 is paid back first');
    clock.advance(1);
    assert.equal(quota.hasCredit('a'), true);
  });
});
