import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sha256 } from '../crypto/hash.ts';
import type { Block } from '../primitives/block.ts';
import { encodeCoin } from '../primitives/coin.ts';
import { LockType } from '../primitives/lock.ts';
import { outpointKey } from '../primitives/outpoint.ts';
import { toHex } from '../util/bytes.ts';
import { addressCoinKey, addressIndexOps, addressTxKey } from './address-index.ts';

function coin(n: number): { key: Uint8Array; coin: Uint8Array; lockHash: Uint8Array } {
  const lockHash = sha256(Uint8Array.of(n));
  return {
    key: outpointKey({ txid: sha256(Uint8Array.of(n, 1)), index: n }),
    coin: encodeCoin({
      amount: BigInt(n),
      lock: { type: LockType.pubkeyHash, hash: lockHash },
      height: 1,
      coinbase: false,
    }),
    lockHash,
  };
}

// The coin keys only: a block without transactions adds no history keys.
const emptyBlock = { txs: [], height: 7 } as unknown as Block;

describe('addressIndexOps: address-coin keys', () => {
  it('are addressCoinKey of every spent and created coin, as independent bytes', () => {
    const spent = [coin(1), coin(2), coin(3)];
    const created = [coin(4), coin(5)];
    for (const undo of [false, true]) {
      const ops = addressIndexOps(emptyBlock, { spent, created }, [], undo);
      const want = [...spent, ...created].map((c) => toHex(addressCoinKey(c.lockHash, c.key)));
      assert.deepEqual(
        ops.map((op) => toHex(op.key)),
        want,
      );
      // Spends delete on connect and put back on undo; creations the reverse.
      assert.deepEqual(
        ops.map((op) => op.type),
        undo ? ['put', 'put', 'put', 'del', 'del'] : ['del', 'del', 'del', 'put', 'put'],
      );
      // Each key is exactly its own bytes (views of one allocation must not overlap).
      for (const op of ops) assert.equal(op.key.length, 1 + 32 + 36);
      ops[0]!.key.fill(0);
      assert.equal(toHex(ops[1]!.key), want[1]);
    }
  });
});

describe('addressIndexOps: address history keys', () => {
  it('one per address a transaction pays or spends from, in first-seen order', () => {
    const [a, b, c] = [coin(1).lockHash, coin(2).lockHash, coin(3).lockHash];
    const txid = sha256(Uint8Array.of(9));
    const block = {
      height: 7,
      txs: [
        { txid, outputs: [{ lock: { hash: b } }] },
        { txid, outputs: [{ lock: { hash: a } }, { lock: { hash: b } }] },
      ],
    } as unknown as Block;
    // Runs and repeats of one address, and a copy equal in bytes but not identity.
    const spentLocks = [[], [a, a.slice(), c, a, b, b, c]];
    const ops = addressIndexOps(block, { spent: [], created: [] }, spentLocks);
    assert.deepEqual(
      ops.map((op) => toHex(op.key)),
      [
        toHex(addressTxKey(b, 7, 0)),
        toHex(addressTxKey(a, 7, 1)),
        toHex(addressTxKey(b, 7, 1)),
        toHex(addressTxKey(c, 7, 1)),
      ],
    );
  });
});
