/**
 * One snapshot as one file, for `utxod snapshot export|import` and for a
 * Kubernetes init container: "UTXOSNF1", then u32 BE length + bytes of the
 * manifest, then of each chunk in order, then a SHA-256 of everything before
 * it. The trailing hash only catches a damaged copy early; the trust comes
 * from the manifest's chunk hashes and the commit certificate (verify.ts).
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { bytesEqual } from '../util/index.ts';
import { SnapshotError } from './errors.ts';
import { decodeManifest, MAX_CHUNK_BYTES, MAX_MANIFEST_BYTES, type Manifest } from './format.ts';
import type { SnapshotStore } from './store.ts';

const FILE_MAGIC = new TextEncoder().encode('UTXOSNF1');

export async function exportSnapshot(
  store: SnapshotStore,
  height: number,
  path: string,
): Promise<number> {
  const manifestBytes = await store.manifestBytes(height);
  const manifest = decodeManifest(manifestBytes);
  const file = await open(path, 'wx', 0o644);
  const hash = createHash('sha256');
  let size = 0;
  const put = async (bytes: Uint8Array) => {
    hash.update(bytes);
    await file.write(bytes);
    size += bytes.length;
  };
  try {
    await put(FILE_MAGIC);
    await put(lengthPrefix(manifestBytes.length));
    await put(manifestBytes);
    for (let i = 0; i < manifest.chunkHashes.length; i++) {
      const chunk = await store.chunk(height, i);
      await put(lengthPrefix(chunk.length));
      await put(chunk);
    }
    const digest = hash.digest();
    await file.write(digest);
    await file.sync();
    return size + digest.length;
  } finally {
    await file.close();
  }
}

/** An opened snapshot file: its manifest, and its chunks read on demand. */
export interface SnapshotFile {
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  chunk(index: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Opens `path`, checks its framing and trailing checksum; content is verified by the caller. */
export async function openSnapshotFile(path: string): Promise<SnapshotFile> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const hash = createHash('sha256');
    let offset = 0;
    const read = async (n: number, what: string): Promise<Uint8Array> => {
      if (offset + n > size - 32) throw bad(`the file ends inside the ${what}`);
      const buf = new Uint8Array(n);
      const { bytesRead } = await file.read(buf, 0, n, offset);
      if (bytesRead !== n) throw bad(`short read in the ${what}`);
      offset += n;
      hash.update(buf);
      return buf;
    };
    const readLength = async (max: number, what: string) => {
      const b = await read(4, what);
      const n = new DataView(b.buffer).getUint32(0, false);
      if (n > max) throw bad(`${what} of ${n} bytes`);
      return n;
    };
    if (!bytesEqual(await read(FILE_MAGIC.length, 'magic'), FILE_MAGIC))
      throw bad('not a utxod snapshot file');
    const manifestBytes = await read(await readLength(MAX_MANIFEST_BYTES, 'manifest'), 'manifest');
    const manifest = decodeManifest(manifestBytes);
    const offsets: Array<{ at: number; length: number }> = [];
    for (let i = 0; i < manifest.chunkHashes.length; i++) {
      const length = await readLength(MAX_CHUNK_BYTES, `chunk ${i}`);
      offsets.push({ at: offset, length });
      await read(length, `chunk ${i}`);
    }
    if (offset !== size - 32) throw bad('trailing bytes after the last chunk');
    const trailer = new Uint8Array(32);
    await file.read(trailer, 0, 32, offset);
    if (!bytesEqual(new Uint8Array(hash.digest()), trailer))
      throw bad('the file checksum does not match: the copy is damaged');
    return {
      manifest,
      manifestBytes,
      async chunk(index) {
        const where = offsets[index];
        if (where === undefined) throw bad(`no chunk ${index}`);
        return readAt(file, where.at, where.length);
      },
      close: () => file.close(),
    };
  } catch (error) {
    await file.close();
    throw error;
  }
}

async function readAt(file: FileHandle, at: number, length: number): Promise<Uint8Array> {
  const buf = new Uint8Array(length);
  const { bytesRead } = await file.read(buf, 0, length, at);
  if (bytesRead !== length) throw bad('short read');
  return buf;
}

function lengthPrefix(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, false);
  return b;
}

function bad(reason: string): SnapshotError {
  return new SnapshotError('SNAPSHOT_MALFORMED', reason);
}
