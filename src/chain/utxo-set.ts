import type { BatchOp, Database } from '../storage/index.ts';
import { Bucket, bucketKey } from '../storage/index.ts';
import { CoinCache } from './coin-cache.ts';

/** Anything that can answer "which of these outpoints are unspent, with what coin". */
export interface CoinSource {
  /** Encoded coins (primitives/coin.ts) for 36-byte outpoint keys, undefined where unspent coins do not exist. */
  getCoins(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
}

export interface CreatedCoin {
  readonly key: Uint8Array;
  readonly coin: Uint8Array;
}

/**
 * The UTXO set: LevelDB's coin bucket behind a byte-bounded in-memory cache.
 *
 * The cache is write-through: a block's coin changes go to disk in the block's
 * own atomic batch, and the cache learns them only after that batch is
 * written. So the cache can never hold a state the database does not, and a
 * crash loses nothing but warm entries.
 */
export class UtxoSet implements CoinSource {
  private readonly db: Database;
  readonly cache: CoinCache;

  constructor(opts: { cacheBytes: number }, modules: { db: Database }) {
    this.db = modules.db;
    this.cache = new CoinCache({ maxBytes: opts.cacheBytes });
  }

  async getCoins(keys: readonly Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    const result: Array<Uint8Array | undefined> = new Array(keys.length);
    const missIndexes: number[] = [];
    keys.forEach((key, i) => {
      const cached = this.cache.get(key);
      if (cached === undefined) missIndexes.push(i);
      else result[i] = cached;
    });
    if (missIndexes.length > 0) {
      const fetched = await this.db.getMany(
        missIndexes.map((i) => bucketKey(Bucket.coin, keys[i]!)),
      );
      missIndexes.forEach((keyIndex, j) => {
        const coin = fetched[j];
        result[keyIndex] = coin;
        if (coin !== undefined) this.cache.set(keys[keyIndex]!, coin);
      });
    }
    return result;
  }

  /** The batch operations that remove `spent` and add `created`. */
  static batchOps(spent: readonly Uint8Array[], created: readonly CreatedCoin[]): BatchOp[] {
    const ops: BatchOp[] = [];
    for (const key of spent) ops.push({ type: 'del', key: bucketKey(Bucket.coin, key) });
    for (const c of created)
      ops.push({ type: 'put', key: bucketKey(Bucket.coin, c.key), value: c.coin });
    return ops;
  }

  /** Called only after the batch with the same changes was written. */
  applyCommitted(spent: readonly Uint8Array[], created: readonly CreatedCoin[]): void {
    for (const key of spent) this.cache.delete(key);
    for (const c of created) this.cache.set(c.key, c.coin);
  }
}
