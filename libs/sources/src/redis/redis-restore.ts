import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, open as openFile, rename, rm, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DatabaseRestoreReport, ManifestItem, SnapshotFileOpener, SourceError, SourceManifest, ToolContext } from '../database/database-source';
import { REDIS_RDB_FILE } from './redis-backup';

/** Where to put a restored RDB. */
export interface RedisRestoreOptions extends ToolContext {
  /** Directory that receives dump.rdb (created if missing). */
  dir: string;
  /** Replace a dump.rdb that is already there. */
  clean: boolean;
}

/**
 * Writes the snapshot's RDB as `dir`/dump.rdb, for a redis-server started on that directory.
 * An existing dump.rdb is refused unless `clean`. The bytes go to a temporary name first,
 * are fsynced and only then renamed, so a restore that fails or is stopped never leaves half
 * an RDB under the name Redis loads.
 */
export async function restoreRedisRdb(manifest: SourceManifest, open: SnapshotFileOpener, options: RedisRestoreOptions): Promise<DatabaseRestoreReport> {
  const item = pickRdbItem(manifest);
  const dir = resolve(options.dir);
  const target = join(dir, REDIS_RDB_FILE);
  await mkdir(dir, { recursive: true });
  const existed = await exists(target);
  if (existed && !options.clean) {
    throw new SourceError(`${target} already exists: stop the Redis server that uses it first (it would overwrite the restored file), then give --clean to replace it`);
  }
  await writeDurably(open(item.file), target, options.signal);
  const { size } = await stat(target);
  return {
    target: dir,
    files: [item.file],
    bytes: size,
    created: !existed,
    notes: [...(existed ? [`replaced the ${REDIS_RDB_FILE} that was in ${dir}`] : []), `start a server on it with: redis-server --dir ${dir} --dbfilename ${REDIS_RDB_FILE}`],
  };
}

/** The RDB item of a Redis snapshot. */
export function pickRdbItem(manifest: SourceManifest): ManifestItem {
  const item = manifest.items.find((candidate) => candidate.content === 'rdb');
  if (!item) throw new SourceError('this snapshot holds no Redis RDB file');
  return item;
}

/**
 * Streams `source` into `target` through a temporary file next to it: write, fsync, rename,
 * fsync the directory. On any failure the temporary file is removed and `target` is untouched.
 */
export async function writeDurably(source: NodeJS.ReadableStream, target: string, signal?: AbortSignal): Promise<void> {
  const dir = resolve(target, '..');
  const temp = join(dir, `.${REDIS_RDB_FILE}.coffer-${randomBytes(6).toString('hex')}.tmp`);
  try {
    await pipeline(source, createWriteStream(temp, { flags: 'wx' }), ...(signal ? [{ signal }] : []));
    await fsync(temp);
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await fsync(dir);
}

async function fsync(path: string): Promise<void> {
  const handle = await openFile(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw err;
    },
  );
}
