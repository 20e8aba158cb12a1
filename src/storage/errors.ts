import { UtxodError } from '../util/index.ts';

export type DatabaseErrorCode = 'DB_LOCKED' | 'DB_CORRUPT' | 'DB_IO' | 'DB_SCHEMA_MISMATCH';

/**
 * A database problem an operator must act on. The message names the path and
 * what is wrong, so "delete and resync" is never the first thing to guess.
 */
export class DatabaseError extends UtxodError<DatabaseErrorCode> {
  readonly path: string;

  constructor(code: DatabaseErrorCode, path: string, message: string, cause?: unknown) {
    super(code, message, { path }, cause === undefined ? undefined : { cause });
    this.path = path;
  }
}
