import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';

/** Prefix of the temporary files writeFileAtomic leaves behind if the process dies mid-write. */
export const TEMP_PREFIX = '.tmp-';

/**
 * Replaces `path` with `data` so that a reader (or the agent after a crash or power loss)
 * sees the old content or the new one, never a mix: write a temporary file in the same
 * directory, fsync it, rename it over the target, then fsync the directory so the rename
 * itself is durable. Synchronous on purpose: callers rely on the file being durable when
 * this returns, and the files are small.
 */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const temp = join(dirname(path), `${TEMP_PREFIX}${basename(path)}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(temp, 'wx', mode);
  try {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    unlinkQuietly(temp);
    throw err;
  }
  closeSync(fd);
  try {
    renameSync(temp, path);
  } catch (err) {
    unlinkQuietly(temp);
    throw err;
  }
  fsyncDirectory(dirname(path));
}

/** Makes renames and creations in `dir` durable. */
export function fsyncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // the temp file may never have been created; nothing else to do
  }
}
