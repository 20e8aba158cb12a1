import type { Clock } from '../../util/index.ts';
import { SyncError } from './errors.ts';

/**
 * Runs `run` with a signal that aborts after `ms` on `clock`, and rejects with
 * SYNC_TIMEOUT as soon as it does, even if the peer ignores the signal.
 */
export function withDeadline<T>(
  clock: Clock,
  ms: number,
  run: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const timer = clock.setTimeout(() => controller.abort(), ms);
  let started: Promise<T>;
  try {
    started = run(controller.signal);
  } catch (error) {
    started = Promise.reject(error);
  }
  return abortable(started, controller.signal).finally(() => clock.clearTimeout(timer));
}

/** `promise`, or a SYNC_TIMEOUT rejection as soon as `signal` aborts (even if the peer ignores it). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () =>
      reject(new SyncError('SYNC_TIMEOUT', 'request timed out or was cancelled'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
