import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import pino from 'pino';
import { applyClockOffset } from './clock-offset.ts';

describe('applyClockOffset (test-only clock skew)', () => {
  const logger = pino({ level: 'silent' });
  after(() => applyClockOffset(0, logger));

  it('shifts Date.now by the offset, replaces an earlier offset, and 0 restores the real clock', () => {
    // new Date() reads the system clock without going through Date.now.
    // biome-ignore lint/complexity/useDateNow: Date.now is the function under test
    const real = () => new Date().getTime();
    applyClockOffset(30_000, logger);
    assert.ok(Math.abs(Date.now() - real() - 30_000) < 1_000);
    applyClockOffset(-30_000, logger);
    assert.ok(Math.abs(Date.now() - real() + 30_000) < 1_000);
    applyClockOffset(0, logger);
    assert.ok(Math.abs(Date.now() - real()) < 1_000);
  });
});
