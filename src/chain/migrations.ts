/**
 * The chain database's layout history: one step per schema version, run by
 * `migrateDatabase` (src/storage/migrations.ts) when a newer utxod opens an
 * older database. A step never changes what the chain commits to (blocks,
 * coins, state, roots); it moves or rebuilds node-local records only, so
 * `verify-chain` gives the same result before and after it.
 */
import type { BatchOp, Database, Migration } from '../storage/index.ts';
import { Bucket, bucketKey } from '../storage/index.ts';
import { setHistoryKey } from './chain-storage.ts';

/** Schema 1 kept the set history under this prefix in the meta bucket. */
const V1_SET_HISTORY_PREFIX = new TextEncoder().encode('valset-history/');
/** One entry per validator-set change: far fewer than this on any real chain. */
const MAX_SET_HISTORY_ENTRIES = 1_000_000;

export function v1SetHistoryKey(height: number): Uint8Array {
  const key = bucketKey(Bucket.meta, V1_SET_HISTORY_PREFIX, new Uint8Array(4));
  new DataView(key.buffer, key.byteOffset + key.length - 4).setUint32(0, height, false);
  return key;
}

/**
 * 1 -> 2: the validator-set history leaves the meta bucket (which holds
 * single records: tip, genesis, schema) for a bucket of its own, so that, as
 * every other record kind, it is range-scanned without touching another.
 */
const moveSetHistory: Migration = {
  from: 1,
  description: 'validator-set history moved from the meta bucket to its own bucket (0x11)',
  async ops(db: Database): Promise<BatchOp[]> {
    const from = bucketKey(Bucket.meta, V1_SET_HISTORY_PREFIX);
    const to = bucketKey(
      Bucket.meta,
      V1_SET_HISTORY_PREFIX,
      Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0),
    );
    const ops: BatchOp[] = [];
    for await (const [key, value] of db.range(from, to)) {
      if (key.length !== from.length + 4 || ops.length >= 2 * MAX_SET_HISTORY_ENTRIES) {
        throw new RangeError(`unexpected set history key of ${key.length} bytes in ${db.path}`);
      }
      const height = new DataView(key.buffer, key.byteOffset + from.length, 4).getUint32(0, false);
      ops.push({ type: 'put', key: setHistoryKey(height), value }, { type: 'del', key });
    }
    return ops;
  },
};

export const CHAIN_MIGRATIONS: readonly Migration[] = [moveSetHistory];
