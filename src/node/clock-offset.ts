/**
 * TEST ONLY: the chaos clock-skew scenario runs one validator with a wrong
 * wall clock. Block times, the future-time rule, token expiry and log times
 * all read `Date.now()` (not every component takes a `Clock`), so the offset
 * is applied there, the one place a skewed host's clock shows up too; timers
 * and `performance.now()` stay monotonic, as they are on such a host.
 */
import type { Logger } from 'pino';

const realNow = Date.now.bind(Date);

/** Shifts `Date.now()` by `offsetMs` for this process (absolute: a second call replaces the first). */
export function applyClockOffset(offsetMs: number, logger: Logger): void {
  if (offsetMs === 0 && Date.now === realNow) return;
  Date.now = offsetMs === 0 ? realNow : () => realNow() + offsetMs;
  if (offsetMs !== 0)
    logger.warn({ clockOffsetMs: offsetMs }, 'TEST ONLY: wall clock shifted by clockOffsetMs');
}
