import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SerialQueue } from './serial-queue.ts';

describe('SerialQueue', () => {
  it('runs sections one at a time in call order, surviving failures', async () => {
    const mutex = new SerialQueue();
    const log: string[] = [];
    const section = (name: string, fail = false) =>
      mutex.run(async () => {
        log.push(`${name}:start`);
        await new Promise((resolve) => setImmediate(resolve));
        log.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      });
    const results = await Promise.allSettled([section('a'), section('b', true), section('c')]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    assert.deepEqual(log, ['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });
});
