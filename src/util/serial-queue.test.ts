import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyedSerialQueue, SerialQueue } from './serial-queue.ts';

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

describe('KeyedSerialQueue', () => {
  it('serialises per key, lets keys overlap, and forgets idle keys', async () => {
    const queue = new KeyedSerialQueue<string>();
    const log: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const a1 = queue.run('a', async () => {
      log.push('a1:start');
      await gate;
      log.push('a1:end');
    });
    const a2 = queue.run('a', () => {
      log.push('a2');
      throw new Error('a2');
    });
    const b1 = queue.run('b', () => {
      log.push('b1');
      return 'b';
    });
    assert.equal(await b1, 'b');
    // b ran while a1 still held key a; a2 waits behind a1.
    assert.deepEqual(log, ['a1:start', 'b1']);
    assert.equal(queue.size, 1);
    release();
    await a1;
    await assert.rejects(a2, /a2/);
    assert.deepEqual(log, ['a1:start', 'b1', 'a1:end', 'a2']);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(queue.size, 0);
  });
});
