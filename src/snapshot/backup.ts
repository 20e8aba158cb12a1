/**
 * Backups of a whole node: every LevelDB record read through one explicit
 * LevelDB snapshot (`Database.readView`), so the copy is one instant of the
 * database and never a torn copy of live files, plus the files a node needs
 * besides its database. The view is taken in O(1) and block commits go on
 * while it is read: the node does not pause (docs/operations.md).
 *
 * Layout: "UTXOBAK1", u32 BE length + UTF-8 JSON header, records (kind u8:
 * 1 = database entry: u32 key length, key, u32 value length, value; 2 =
 * file: u16 name length, name, u32 length, bytes; 0 = end), then a SHA-256
 * of everything before it.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { Bucket, type ReadView } from '../storage/index.ts';
import { bytesEqual, UtxodError } from '../util/index.ts';

const MAGIC = new TextEncoder().encode('UTXOBAK1');
export const BACKUP_FORMAT_VERSION = 1;
const MAX_HEADER_BYTES = 64 * 1024;
const MAX_KEY_BYTES = 64 * 1024;
const MAX_VALUE_BYTES = 64 * 1024 * 1024;
const MAX_FILE_BYTES = 16 * 1024 * 1024;
const FLUSH_BYTES = 1024 * 1024;

export class BackupError extends UtxodError<
  | 'BACKUP_DAMAGED'
  | 'BACKUP_FOREIGN'
  | 'BACKUP_UNSUPPORTED'
  | 'BACKUP_TARGET_NOT_EMPTY'
  | 'BACKUP_VERIFY_FAILED'
> {}

export interface BackupHeader {
  readonly format: number;
  readonly chainId: string;
  /** Hex hash of the genesis block. */
  readonly genesisHash: string;
  readonly height: number;
  readonly tipHash: string;
  readonly createdAt: string;
  readonly includesKeys: boolean;
}

export interface BackupFile {
  /** Path relative to the data directory, '/'-separated. */
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Buckets left out unless keys are asked for: API keys, refresh tokens and token signing keys. */
const KEY_BUCKETS: ReadonlySet<number> = new Set([Bucket.auth]);

/** Streams a backup of `view` and `files`; the caller closes the view afterwards. */
export async function* backupStream(
  view: ReadView,
  header: BackupHeader,
  files: readonly BackupFile[],
): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256');
  let parts: Uint8Array[] = [];
  let size = 0;
  const push = (bytes: Uint8Array) => {
    hash.update(bytes);
    parts.push(bytes);
    size += bytes.length;
  };
  const take = () => {
    const out = Buffer.concat(parts);
    parts = [];
    size = 0;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  };
  push(MAGIC);
  const json = new TextEncoder().encode(JSON.stringify(header));
  push(u32(json.length));
  push(json);
  // Files first: a restore checks the genesis they carry before it writes any entry.
  for (const file of files) {
    const name = new TextEncoder().encode(file.name);
    push(Uint8Array.of(2));
    push(new Uint8Array([name.length >> 8, name.length & 0xff]));
    push(name);
    push(u32(file.bytes.length));
    push(file.bytes);
  }
  for await (const [key, value] of view.range(new Uint8Array(0), Uint8Array.of(0xff, 0xff))) {
    if (!header.includesKeys && KEY_BUCKETS.has(key[0]!)) continue;
    push(Uint8Array.of(1));
    push(u32(key.length));
    push(key);
    push(u32(value.length));
    push(value);
    if (size >= FLUSH_BYTES) yield take();
  }
  push(Uint8Array.of(0));
  yield take();
  yield new Uint8Array(hash.digest());
}

export interface BackupReader {
  readonly header: BackupHeader;
  /** Database entries and files, in order, after the checksum was verified. */
  records(): AsyncGenerator<
    { kind: 'entry'; key: Uint8Array; value: Uint8Array } | { kind: 'file'; file: BackupFile }
  >;
  close(): Promise<void>;
}

/** Opens a backup file; refuses it unless its checksum matches (a damaged copy is never used). */
export async function openBackup(path: string): Promise<BackupReader> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size < MAGIC.length + 4 + 1 + 32) throw damaged('the file is too short');
    const hash = createHash('sha256');
    const buf = new Uint8Array(FLUSH_BYTES);
    for (let at = 0; at < size - 32; ) {
      const n = Math.min(buf.length, size - 32 - at);
      const { bytesRead } = await file.read(buf, 0, n, at);
      if (bytesRead !== n) throw damaged('short read');
      hash.update(buf.subarray(0, n));
      at += n;
    }
    const trailer = new Uint8Array(32);
    await file.read(trailer, 0, 32, size - 32);
    if (!bytesEqual(new Uint8Array(hash.digest()), trailer))
      throw damaged('the checksum does not match: the backup is damaged or truncated');
    const reader = new SeqReader(file, size - 32);
    if (!bytesEqual(await reader.read(MAGIC.length), MAGIC)) throw damaged('not a utxod backup');
    const headerBytes = await reader.read(await reader.u32(MAX_HEADER_BYTES, 'header'));
    const header = parseHeader(headerBytes);
    return {
      header,
      async *records() {
        for (;;) {
          const kind = (await reader.read(1))[0];
          if (kind === 0) break;
          if (kind === 1) {
            const key = await reader.read(await reader.u32(MAX_KEY_BYTES, 'key'));
            const value = await reader.read(await reader.u32(MAX_VALUE_BYTES, 'value'));
            yield { kind: 'entry', key, value };
          } else if (kind === 2) {
            const len = await reader.read(2);
            const name = new TextDecoder('utf-8', { fatal: true }).decode(
              await reader.read((len[0]! << 8) | len[1]!),
            );
            if (
              !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) ||
              name.split('/').includes('..')
            )
              throw damaged(`a file name that is not a plain relative path: ${name}`);
            const bytes = await reader.read(await reader.u32(MAX_FILE_BYTES, 'file'));
            yield { kind: 'file', file: { name, bytes } };
          } else throw damaged(`unknown record kind ${kind}`);
        }
        if (reader.position !== reader.end) throw damaged('bytes after the end record');
      },
      close: () => file.close(),
    };
  } catch (error) {
    await file.close();
    throw error;
  }
}

function parseHeader(bytes: Uint8Array): BackupHeader {
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<
      string,
      unknown
    >;
  } catch (error) {
    throw damaged(`the header is not JSON (${(error as Error).message})`);
  }
  if (h['format'] !== BACKUP_FORMAT_VERSION)
    throw new BackupError(
      'BACKUP_UNSUPPORTED',
      `backup format ${String(h['format'])} is not supported`,
    );
  const str = (k: string) => {
    if (typeof h[k] !== 'string') throw damaged(`header field ${k}`);
    return h[k] as string;
  };
  if (!Number.isSafeInteger(h['height']) || typeof h['includesKeys'] !== 'boolean')
    throw damaged('header fields height/includesKeys');
  return {
    format: BACKUP_FORMAT_VERSION,
    chainId: str('chainId'),
    genesisHash: str('genesisHash'),
    height: h['height'] as number,
    tipHash: str('tipHash'),
    createdAt: str('createdAt'),
    includesKeys: h['includesKeys'] as boolean,
  };
}

/** Sequential buffered reads with bounds, up to `end`. */
class SeqReader {
  position = 0;
  readonly end: number;
  private readonly file: FileHandle;

  constructor(file: FileHandle, end: number) {
    this.file = file;
    this.end = end;
  }

  /** Buffered: one file read per MiB, not one per field. */
  private buf = new Uint8Array(0);
  private bufStart = 0;

  async read(n: number): Promise<Uint8Array> {
    if (this.position + n > this.end) throw damaged('the backup ends inside a record');
    const offset = this.position - this.bufStart;
    if (offset < 0 || offset + n > this.buf.length) {
      const want = Math.min(Math.max(n, FLUSH_BYTES), this.end - this.position);
      const fresh = new Uint8Array(want);
      const { bytesRead } = await this.file.read(fresh, 0, want, this.position);
      if (bytesRead !== want) throw damaged('short read');
      this.buf = fresh;
      this.bufStart = this.position;
    }
    const at = this.position - this.bufStart;
    this.position += n;
    return this.buf.slice(at, at + n);
  }

  async u32(max: number, what: string): Promise<number> {
    const b = await this.read(4);
    const n = ((b[0]! << 24) >>> 0) + (b[1]! << 16) + (b[2]! << 8) + b[3]!;
    if (n > max) throw damaged(`${what} of ${n} bytes`);
    return n;
  }
}

function u32(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function damaged(reason: string): BackupError {
  return new BackupError('BACKUP_DAMAGED', reason);
}
