/**
 * Typed per-bucket repositories (Lodestar's pattern): each record kind is a
 * `Repository<K, V>` over one one-byte bucket, with its key and value codecs,
 * on a tiny db-controller interface. Reads decode; writes are batch ops, so a
 * caller still commits many repositories' changes in one atomic batch.
 */
import { type Bucket, bucketKey } from './buckets.ts';
import type { BatchOp } from './db.ts';

/** What a repository needs of the database (`Database` implements it). */
export interface DbController {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  range(
    gte: Uint8Array,
    lt: Uint8Array,
    options?: { reverse?: boolean; limit?: number },
  ): AsyncGenerator<[Uint8Array, Uint8Array]>;
}

export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** Heights as 4 bytes big-endian, so that range scans come out in height order. */
export const heightCodec: Codec<number> = {
  encode(height) {
    const key = new Uint8Array(4);
    new DataView(key.buffer).setUint32(0, height, false);
    return key;
  },
  decode(bytes) {
    return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
  },
};

/** Keys or values that are already bytes (hashes, outpoint keys, encoded coins). */
export const bytesCodec: Codec<Uint8Array> = {
  encode: (bytes) => bytes,
  decode: (bytes) => bytes,
};

export class Repository<K, V> {
  readonly bucket: Bucket;
  private readonly db: DbController;
  private readonly keys: Codec<K>;
  private readonly values: Codec<V>;

  constructor(bucket: Bucket, db: DbController, codecs: { key: Codec<K>; value: Codec<V> }) {
    this.bucket = bucket;
    this.db = db;
    this.keys = codecs.key;
    this.values = codecs.value;
  }

  /** The full database key (bucket prefix included) of `id`. */
  key(id: K): Uint8Array {
    return bucketKey(this.bucket, this.keys.encode(id));
  }

  /** The stored bytes of `id`, undecoded (for callers that must report a decode failure themselves). */
  getRaw(id: K): Promise<Uint8Array | undefined> {
    return this.db.get(this.key(id));
  }

  async get(id: K): Promise<V | undefined> {
    const bytes = await this.getRaw(id);
    return bytes === undefined ? undefined : this.values.decode(bytes);
  }

  putOp(id: K, value: V): BatchOp {
    return { type: 'put', key: this.key(id), value: this.values.encode(value) };
  }

  delOp(id: K): BatchOp {
    return { type: 'del', key: this.key(id) };
  }

  /** Entries with `from` <= key < `to` (the whole bucket by default), decoded, in key order. */
  async *entries(
    range: { from?: K; to?: K; reverse?: boolean; limit?: number } = {},
  ): AsyncGenerator<[K, V]> {
    const gte = range.from === undefined ? Uint8Array.of(this.bucket) : this.key(range.from);
    const lt = range.to === undefined ? Uint8Array.of(this.bucket + 1) : this.key(range.to);
    for await (const [key, value] of this.db.range(gte, lt, {
      reverse: range.reverse ?? false,
      limit: range.limit ?? -1,
    })) {
      yield [this.keys.decode(key.subarray(1)), this.values.decode(value)];
    }
  }
}
