import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareFeeRate, paysFeeRate } from './feerate.ts';
import { Heap } from './heap.ts';

interface Item {
  key: number;
  index: number;
  id: number;
}

describe('mempool: heap', () => {
  it('pops in order under pushes, removals and re-keys, with tracked indexes', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('push' as const), key: fc.integer({ min: -50, max: 50 }) }),
            fc.record({ op: fc.constant('pop' as const) }),
            fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }),
            fc.record({
              op: fc.constant('rekey' as const),
              pick: fc.nat(),
              key: fc.integer({ min: -50, max: 50 }),
            }),
          ),
          { maxLength: 80 },
        ),
        (ops) => {
          const heap = new Heap<Item>(
            (a, b) => a.key < b.key || (a.key === b.key && a.id < b.id),
            (item, index) => {
              item.index = index;
            },
          );
          const model: Item[] = [];
          let nextId = 0;
          const byOrder = (a: Item, b: Item) => a.key - b.key || a.id - b.id;
          for (const step of ops) {
            if (step.op === 'push') {
              const item = { key: step.key, index: -1, id: nextId++ };
              heap.push(item);
              model.push(item);
            } else if (step.op === 'pop') {
              model.sort(byOrder);
              assert.equal(heap.pop(), model.shift());
            } else if (model.length > 0) {
              const item = model[step.pick % model.length]!;
              if (step.op === 'remove') {
                assert.equal(heap.removeAt(item.index), item);
                assert.equal(item.index, -1);
                model.splice(model.indexOf(item), 1);
              } else {
                item.key = step.key;
                heap.update(item.index);
              }
            }
            assert.equal(heap.size, model.length);
            model.sort(byOrder);
            assert.equal(heap.peek(), model[0]);
          }
        },
      ),
    );
  });
});

describe('mempool: fee rates', () => {
  it('compares exactly where floating point cannot', () => {
    // 2^53 + 1 and 2^53 are the same double; as fee rates over 1 byte they differ.
    const big = 2n ** 53n;
    assert.equal(compareFeeRate({ fee: big + 1n, size: 1n }, { fee: big, size: 1n }), 1);
    assert.equal(compareFeeRate({ fee: 1n, size: 3n }, { fee: 2n, size: 6n }), 0);
    assert.equal(compareFeeRate({ fee: 1n, size: 3n }, { fee: 1n, size: 2n }), -1);
    assert.ok(paysFeeRate(185n, 185, 1000n));
    assert.ok(!paysFeeRate(184n, 185, 1000n));
  });
});
