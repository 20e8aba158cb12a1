import type { Logger } from 'pino';
import { u32BE } from '../util/index.ts';
import { metaKey } from './buckets.ts';
import type { BatchOp, Database } from './db.ts';
import { DatabaseError } from './errors.ts';

/**
 * One step of the database layout, from schema `from` to `from + 1`.
 *
 * `ops` reads what it needs and returns every change of the step; the runner
 * appends the schema bump and writes them as ONE batch, so a crash leaves the
 * database either wholly at `from` or wholly at `from + 1` and the step simply
 * runs again at the next start. A step whose changes cannot fit one batch
 * must instead be idempotent in chunks and return only its last chunk here.
 */
export interface Migration {
  readonly from: number;
  /** What changes, for the operator's log line. */
  readonly description: string;
  ops(db: Database): Promise<BatchOp[]>;
}

export interface MigrationResult {
  readonly from: number;
  readonly to: number;
  /** Descriptions of the steps that ran, in order. */
  readonly applied: readonly string[];
}

const SCHEMA_KEY = metaKey('schema');

export async function readSchemaVersion(db: Database): Promise<number | undefined> {
  const raw = await db.get(SCHEMA_KEY);
  if (raw === undefined) return undefined;
  if (raw.length !== 4) {
    throw new DatabaseError(
      'DB_CORRUPT',
      db.path,
      `database ${db.path} has a damaged schema record (${raw.length} bytes, expected 4)`,
    );
  }
  return new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0, false);
}

export function schemaVersionOp(version: number): BatchOp {
  return { type: 'put', key: SCHEMA_KEY, value: u32BE(version) };
}

/**
 * Brings `db` from its stored schema to `target`, one step per version, each
 * step atomic with its schema bump. Refuses a database newer than `target`
 * (written by a later utxod: this build cannot read it, and downgrading the
 * data is not supported) and one that a step is missing for.
 */
export async function migrateDatabase(
  db: Database,
  opts: { target: number; migrations: readonly Migration[] },
  modules: { logger: Logger },
): Promise<MigrationResult> {
  const stored = await readSchemaVersion(db);
  if (stored === undefined) {
    throw new DatabaseError(
      'DB_CORRUPT',
      db.path,
      `database ${db.path} has a genesis record but no schema record`,
    );
  }
  if (stored > opts.target) {
    throw new DatabaseError(
      'DB_SCHEMA_MISMATCH',
      db.path,
      `database ${db.path} has schema version ${stored}, written by a newer utxod; ` +
        `this build reads versions up to ${opts.target}. Run the newer build, or restore ` +
        'a backup taken before the upgrade (a layout change is never undone in place)',
    );
  }
  const applied: string[] = [];
  for (let version = stored; version < opts.target; version++) {
    const step = opts.migrations.find((m) => m.from === version);
    if (step === undefined) {
      throw new DatabaseError(
        'DB_SCHEMA_MISMATCH',
        db.path,
        `database ${db.path} has schema version ${version} and this build has no migration from it to ${version + 1}`,
      );
    }
    const started = performance.now();
    const ops = await step.ops(db);
    await db.write([...ops, schemaVersionOp(version + 1)]);
    applied.push(step.description);
    modules.logger.warn(
      {
        event: 'database-migrated',
        path: db.path,
        from: version,
        to: version + 1,
        records: ops.length,
        ms: Math.round(performance.now() - started),
      },
      `database migrated from schema ${version} to ${version + 1}: ${step.description}`,
    );
  }
  return { from: stored, to: opts.target, applied };
}
