import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../logger/index.ts';
import { CloseStack } from './close-stack.ts';

describe('CloseStack', () => {
  it('closes in reverse order, and a failing close does not skip the ones after it', async () => {
    const stack = new CloseStack();
    const closed: string[] = [];
    for (const name of ['db', 'verifier', 'p2p', 'api']) {
      stack.push(name, async () => {
        closed.push(name);
        if (name === 'p2p') throw new Error('stuck');
      });
    }
    assert.deepEqual(stack.closeOrder, ['api', 'p2p', 'verifier', 'db']);
    const errors = await stack.closeAll(silentLogger());
    assert.deepEqual(closed, ['api', 'p2p', 'verifier', 'db']);
    assert.deepEqual(
      errors.map((e) => e.message),
      ['stuck'],
    );
    assert.deepEqual(await stack.closeAll(silentLogger()), [], 'a second close has nothing left');
  });
});
