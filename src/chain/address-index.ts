import type { Block } from '../primitives/index.ts';
import { COIN_SIZE, decodeCoin, OUTPOINT_SIZE } from '../primitives/index.ts';
import type { BatchOp } from '../storage/index.ts';
import { Bucket, bucketKey } from '../storage/index.ts';
import { bytesEqual, bytesKey } from '../util/index.ts';
import type { SpentCoin } from './records.ts';
import type { CreatedCoin } from './utxo-set.ts';

const EMPTY = new Uint8Array(0);

function u32be(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

/**
 * Lock hash of an encoded coin (its last 32 bytes). The coins here were
 * decoded strictly when the block was validated; decoding each again just for
 * its hash was ~6% of the connect write phase's CPU (profile of a
 * 5,000-input block).
 */
function coinLockHash(coin: Uint8Array): Uint8Array {
  if (coin.length !== COIN_SIZE) return decodeCoin(coin).lock.hash; // throws the DecodeError
  return coin.subarray(COIN_SIZE - 32);
}

export function addressCoinKey(lockHash: Uint8Array, outpointKey: Uint8Array): Uint8Array {
  return bucketKey(Bucket.addressCoin, lockHash, outpointKey);
}

export function addressTxKey(lockHash: Uint8Array, height: number, position: number): Uint8Array {
  return bucketKey(Bucket.addressTx, lockHash, u32be(height), u32be(position));
}

const COIN_KEY_BYTES = 1 + 32 + OUTPOINT_SIZE;

/**
 * The address-coin keys of one block, as views of one allocation. A typed
 * array over 64 bytes gets its own off-heap backing store, and building the
 * 69-byte keys one by one (`concatBytes`) was ~20% of the connect write
 * phase's CPU in a profile of a 1,000-input block; LevelDB copies keys in
 * `batch`, and reads a view at its offset.
 */
class CoinKeyArena {
  private readonly bytes: Uint8Array;
  private at = 0;

  constructor(count: number) {
    this.bytes = new Uint8Array(count * COIN_KEY_BYTES);
  }

  key(lockHash: Uint8Array, outpointKey: Uint8Array): Uint8Array {
    if (lockHash.length !== 32 || outpointKey.length !== OUTPOINT_SIZE) {
      return addressCoinKey(lockHash, outpointKey);
    }
    const start = this.at;
    this.bytes[start] = Bucket.addressCoin;
    this.bytes.set(lockHash, start + 1);
    this.bytes.set(outpointKey, start + 33);
    this.at += COIN_KEY_BYTES;
    return this.bytes.subarray(start, this.at);
  }
}

/**
 * Address-index changes of one block, written in the block's own batch so the
 * index can never disagree with the UTXO set. `undo` reverses them.
 * A transaction appears in the history of every address it pays or spends from.
 */
export function addressIndexOps(
  block: Block,
  changes: { spent: readonly SpentCoin[]; created: readonly CreatedCoin[] },
  spentLocksByTx: ReadonlyArray<readonly Uint8Array[]>,
  undo = false,
): BatchOp[] {
  const ops: BatchOp[] = [];
  const put = (key: Uint8Array): BatchOp =>
    undo ? { type: 'del', key } : { type: 'put', key, value: EMPTY };
  const del = (key: Uint8Array): BatchOp =>
    undo ? { type: 'put', key, value: EMPTY } : { type: 'del', key };
  const keys = new CoinKeyArena(changes.spent.length + changes.created.length);
  for (const s of changes.spent) ops.push(del(keys.key(coinLockHash(s.coin), s.key)));
  for (const c of changes.created) ops.push(put(keys.key(coinLockHash(c.coin), c.key)));
  block.txs.forEach((tx, position) => {
    const touched = new Map<string, Uint8Array>();
    // Runs of one address (a wallet's inputs) skip the string key: bytesKey
    // per input was ~10% of the write phase of a 1,000-input block. Skipping a
    // repeat leaves the Map's (first-insertion) order unchanged.
    let last: Uint8Array | undefined;
    const touch = (lockHash: Uint8Array): void => {
      if (last !== undefined && bytesEqual(last, lockHash)) return;
      last = lockHash;
      touched.set(bytesKey(lockHash), lockHash);
    };
    for (const output of tx.outputs) touch(output.lock.hash);
    for (const lockHash of spentLocksByTx[position] ?? []) touch(lockHash);
    for (const lockHash of touched.values()) {
      const key = addressTxKey(lockHash, block.height, position);
      ops.push(undo ? { type: 'del', key } : { type: 'put', key, value: tx.txid });
    }
  });
  return ops;
}

export function outpointKeyFromAddressCoinKey(key: Uint8Array): Uint8Array {
  return key.subarray(1 + 32, 1 + 32 + OUTPOINT_SIZE);
}
