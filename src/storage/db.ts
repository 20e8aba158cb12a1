import { Level } from 'level';
import { DatabaseError } from './errors.ts';

export type BatchOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array };

export interface DatabaseOptions {
  readonly path: string;
  /** fsync every batch: survives power loss, not only a killed process. */
  readonly syncWrites: boolean;
  /** LevelDB's own block cache in bytes. */
  readonly blockCacheBytes?: number;
}

/**
 * The node's only door to LevelDB: binary keys and values, atomic batches, and
 * open errors translated into DatabaseError with a code an operator can act on.
 */
export class Database {
  readonly path: string;
  private readonly level: Level<Uint8Array, Uint8Array>;
  private readonly syncWrites: boolean;

  private constructor(opts: DatabaseOptions, level: Level<Uint8Array, Uint8Array>) {
    this.path = opts.path;
    this.level = level;
    this.syncWrites = opts.syncWrites;
  }

  static async open(opts: DatabaseOptions): Promise<Database> {
    const level = new Level<Uint8Array, Uint8Array>(opts.path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      cacheSize: opts.blockCacheBytes ?? 8 * 1024 * 1024,
    });
    try {
      await level.open({ createIfMissing: true });
    } catch (error) {
      throw translateOpenError(opts.path, error);
    }
    return new Database(opts, level);
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.level.get(key);
  }

  getMany(keys: Uint8Array[]): Promise<Array<Uint8Array | undefined>> {
    return this.level.getMany(keys);
  }

  async write(ops: readonly BatchOp[]): Promise<void> {
    await this.level.batch(ops as BatchOp[], { sync: this.syncWrites });
  }

  /** Entries with gte <= key < lt, in key order. */
  async *range(
    gte: Uint8Array,
    lt: Uint8Array,
    options: { reverse?: boolean; limit?: number } = {},
  ) {
    for await (const entry of this.level.iterator({
      gte,
      lt,
      reverse: options.reverse ?? false,
      limit: options.limit ?? -1,
    })) {
      yield entry;
    }
  }

  /**
   * A read-only view of the database as it is now (LevelDB's explicit
   * snapshot): later writes are invisible to it, so a snapshot or backup
   * taken through it is never a torn mix of two tips. Close it when done;
   * an open view pins old files and memory.
   */
  readView(): ReadView {
    const snapshot = this.level.snapshot();
    const level = this.level;
    return {
      get: (key) => level.get(key, { snapshot }),
      getMany: (keys) => level.getMany(keys, { snapshot }),
      async *range(gte, lt, options = {}) {
        for await (const entry of level.iterator({
          gte,
          lt,
          reverse: options.reverse ?? false,
          limit: options.limit ?? -1,
          snapshot,
        })) {
          yield entry;
        }
      },
      close: () => snapshot.close(),
    };
  }

  async close(): Promise<void> {
    await this.level.close();
  }
}

/** Reads at one instant of the database (see `Database.readView`). */
export interface ReadView {
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<Array<Uint8Array | undefined>>;
  range(
    gte: Uint8Array,
    lt: Uint8Array,
    options?: { reverse?: boolean; limit?: number },
  ): AsyncGenerator<[Uint8Array, Uint8Array]>;
  close(): Promise<void>;
}

function translateOpenError(path: string, error: unknown): DatabaseError {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  const detail = cause?.message ?? String(error);
  if (code === 'LEVEL_LOCKED') {
    return new DatabaseError(
      'DB_LOCKED',
      path,
      `database ${path} is in use by another process (is another utxod running on this data directory?)`,
      error,
    );
  }
  if (code === 'LEVEL_CORRUPTION') {
    return new DatabaseError('DB_CORRUPT', path, `database ${path} is corrupted: ${detail}`, error);
  }
  return new DatabaseError('DB_IO', path, `cannot open database ${path}: ${detail}`, error);
}
