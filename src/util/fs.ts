import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname } from 'node:path';

/** The temp file both writers below use: next to the target, so the rename stays on one filesystem. */
function tempPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/**
 * Replace `path` with `data` so that after a crash the file holds either the
 * old or the new content, never a mix: write a temp file, fsync it, rename it
 * over the target, fsync the directory so the rename itself is durable.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, mode = 0o600): void {
  const tmp = tempPath(path);
  const fd = openSync(tmp, 'w', mode);
  try {
    writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dirFd = openSync(dirname(path), 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** `writeFileAtomicSync` without blocking the event loop (same guarantees, same temp file). */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  mode = 0o600,
): Promise<void> {
  const tmp = tempPath(path);
  const file = await open(tmp, 'w', mode);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}
