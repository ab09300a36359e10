import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import type { Dirent } from 'node:fs';
import { link, lstat, mkdir, open, opendir, readFile, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import * as path from 'node:path';
import { AlreadyExistsError, existsByStat, NotFoundError, StorageError, StorageFullError } from '../storage';
import type { ObjectInfo, PutOptions, Storage } from '../storage';
import { directorySegments, HEX_NAME, listingLayout, TEMP_PREFIX } from '../object-names';


/**
 * Read-only like restic's files: a stray tool opening an object for writing fails
 * instead of damaging it. Deleting and replacing still work, as those need only write
 * permission on the directory.
 */
const OBJECT_MODE = 0o444;

/** Error codes that mean "no such object" when reading: the name, or a directory on its path, is not a file. */
const NOT_FOUND_CODES: ReadonlySet<string> = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

/** Error codes retrying cannot fix: the filesystem refuses, or the name cannot exist here. */
const REFUSED_CODES: ReadonlySet<string> = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The layout clashes with the name (a file where a directory must be, or the other way round). */
const CONFLICT_CODES: ReadonlySet<string> = new Set(['EISDIR', 'ENOTDIR', 'ENAMETOOLONG', 'EEXIST']);

/**
 * Storage in a local directory (or anything mounted as one: NFS, SMB, a USB disk).
 *
 * `data/<hex>`, `index/<hex>` and `snapshots/<hex>` live in `<root>/<prefix>/<hex[0..2]>/<hex>`
 * so no directory holds millions of entries; other names are stored as given.
 * Directories are created on first write, so a fresh repository needs no set-up here.
 */
export class LocalStorage implements Storage {
  /** The absolute root directory; it appears in every message. */
  readonly location: string;

  constructor(root: string) {
    this.location = path.resolve(root);
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const finalPath = this.pathOf(name);
    const dir = path.dirname(finalPath);
    let tempPath: string | undefined;
    try {
      const handle = await this.openTemp(dir);
      tempPath = handle.path;
      try {
        await handle.file.writeFile(data);
        // Before the rename: otherwise a crash can leave the final name pointing at an empty file.
        await handle.file.sync();
      } finally {
        await handle.file.close();
      }
      if (options.exclusive) {
        // link() fails if the name exists, where rename() would silently replace it.
        await link(tempPath, finalPath).catch((err: unknown) => {
          if (errorCode(err) === 'EEXIST') throw new AlreadyExistsError(this.location, name);
          throw err;
        });
        // The object is in place now; a leftover temp file is harmless (list() skips it).
        await unlink(tempPath).catch(() => undefined);
      } else {
        await rename(tempPath, finalPath);
      }
      tempPath = undefined;
      // The rename is durable only once the directory entry is on disk.
      await syncDirectory(dir);
    } catch (err) {
      if (tempPath !== undefined) await unlink(tempPath).catch(() => undefined);
      throw this.writeError(name, err);
    }
  }

  async get(name: string): Promise<Buffer> {
    const file = this.pathOf(name);
    try {
      return await readFile(file);
    } catch (err) {
      throw this.readError(name, err);
    }
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    const file = this.pathOf(name);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StorageError(
        `cannot read ${name} in ${this.location}: invalid range offset=${offset} length=${length}`,
        true,
        name,
      );
    }
    let handle: FileHandle | undefined;
    try {
      handle = await open(file, 'r');
      const size = (await handle.stat()).size;
      if (offset + length > size) throw this.truncatedError(name, offset, length, size);
      const buffer = Buffer.alloc(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, offset + filled);
        // Shrunk after the stat: the file is not the object it was a moment ago.
        if (bytesRead === 0) throw this.truncatedError(name, offset, length, offset + filled);
        filled += bytesRead;
      }
      return buffer;
    } catch (err) {
      throw this.readError(name, err);
    } finally {
      await handle?.close();
    }
  }

  async stat(name: string): Promise<ObjectInfo> {
    const file = this.pathOf(name);
    try {
      const info = await stat(file);
      // A directory is part of the layout, not an object.
      if (!info.isFile()) throw new NotFoundError(this.location, name);
      return { name, size: info.size };
    } catch (err) {
      throw this.readError(name, err);
    }
  }

  exists(name: string): Promise<boolean> {
    return existsByStat(this, name);
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const dir = this.pathOf(prefix, 'prefix');
    const layout = listingLayout(prefix);
    if (layout === 'fanned-out') yield* this.listFannedOut(prefix, dir);
    else if (layout === 'tree') yield* this.listTree(prefix, dir);
  }

  async delete(name: string): Promise<void> {
    const file = this.pathOf(name);
    try {
      await unlink(file);
    } catch (err) {
      const code = errorCode(err);
      // Missing is success; a directory is not an object, so it is missing too.
      if (code !== undefined && NOT_FOUND_CODES.has(code)) return;
      if (code === 'EPERM' && (await isDirectory(file))) return;
      throw this.failure('delete', name, err);
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }

  /** Maps a logical name (or a list prefix) to its path, refusing names that could escape the root. */
  private pathOf(name: string, what: 'name' | 'prefix' = 'name'): string {
    return path.join(this.location, ...directorySegments(this.location, name, what));
  }

  /** Creates the temp file, making the directories on the way on first use. */
  private async openTemp(dir: string): Promise<{ file: FileHandle; path: string }> {
    const tempPath = path.join(dir, TEMP_PREFIX + randomBytes(8).toString('hex'));
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;
    try {
      return { file: await open(tempPath, flags, OBJECT_MODE), path: tempPath };
    } catch (err) {
      if (errorCode(err) !== 'ENOENT') throw err;
    }
    const firstCreated = await mkdir(dir, { recursive: true });
    if (firstCreated !== undefined) {
      // New directory entries are no more durable than new files.
      for (let d = path.dirname(dir); ; d = path.dirname(d)) {
        await syncDirectory(d);
        if (d === path.dirname(firstCreated) || d === path.dirname(d)) break;
      }
    }
    return { file: await open(tempPath, flags, OBJECT_MODE), path: tempPath };
  }

  /** `<root>/<prefix>/<xx>/<hex>`: anything else found there (temp files, strays) is not an object. */
  private async *listFannedOut(prefix: string, dir: string): AsyncIterable<ObjectInfo> {
    for (const fanOut of await this.readDirectory(prefix, dir)) {
      if (!fanOut.isDirectory() || !/^[0-9a-f]{2}$/.test(fanOut.name)) continue;
      const fanOutDir = path.join(dir, fanOut.name);
      for (const entry of await this.readDirectory(prefix, fanOutDir)) {
        if (!entry.isFile() || !HEX_NAME.test(entry.name) || !entry.name.startsWith(fanOut.name)) continue;
        const info = await this.sizeOf(prefix, path.join(fanOutDir, entry.name));
        if (info !== undefined) yield { name: `${prefix}/${entry.name}`, size: info };
      }
    }
  }

  /** Every file below `dir`, at any depth, as `prefix/relative/path`. */
  private async *listTree(prefix: string, dir: string): AsyncIterable<ObjectInfo> {
    for (const entry of await this.readDirectory(prefix, dir)) {
      if (entry.name.startsWith(TEMP_PREFIX)) continue;
      const name = `${prefix}/${entry.name}`;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        yield* this.listTree(name, full);
      } else if (entry.isFile()) {
        const size = await this.sizeOf(prefix, full);
        if (size !== undefined) yield { name, size };
      }
    }
  }

  /** Entries of one directory; a missing directory is an empty listing, not an error. */
  private async readDirectory(prefix: string, dir: string): Promise<Dirent[]> {
    const entries: Dirent[] = [];
    try {
      // opendir streams the entries, so a huge directory is not one giant array from the kernel.
      for await (const entry of await opendir(dir)) entries.push(entry);
    } catch (err) {
      const code = errorCode(err);
      if (code !== undefined && NOT_FOUND_CODES.has(code)) return [];
      throw this.failure('list', prefix, err);
    }
    return entries;
  }

  /** Size of a listed file, or undefined when it was deleted since the directory was read. */
  private async sizeOf(prefix: string, file: string): Promise<number | undefined> {
    try {
      return (await lstat(file)).size;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return undefined;
      throw this.failure('list', prefix, err);
    }
  }

  private truncatedError(name: string, offset: number, length: number, size: number): StorageError {
    return new StorageError(
      `${name} in ${this.location} is shorter than expected (truncated?): ` +
        `wanted bytes ${offset}..${offset + length} but it has ${size} bytes`,
      true,
      name,
    );
  }

  private readError(name: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const code = errorCode(err);
    if (code !== undefined && NOT_FOUND_CODES.has(code)) return new NotFoundError(this.location, name);
    return this.failure('read', name, err);
  }

  private writeError(name: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const code = errorCode(err);
    if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageFullError(this.location, name, { cause: err });
    if (code !== undefined && CONFLICT_CODES.has(code)) {
      return new StorageError(
        `cannot write ${name} to ${this.location}: ${name} clashes with an existing file or directory (${code})`,
        true,
        name,
        { cause: err },
      );
    }
    return this.failure('write', name, err);
  }

  /** Permission problems are permanent; anything else (EIO, EMFILE, a stale NFS handle…) may pass. */
  private failure(verb: 'read' | 'write' | 'delete' | 'list', name: string, err: unknown): StorageError {
    const code = errorCode(err);
    const permanent = code !== undefined && REFUSED_CODES.has(code);
    const reason = permanent ? `permission denied (${code})` : err instanceof Error ? err.message : String(err);
    const where = verb === 'write' ? `to ${this.location}` : `in ${this.location}`;
    return new StorageError(`cannot ${verb} ${name} ${where}: ${reason}`, permanent, name, { cause: err });
  }
}


function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

async function isDirectory(file: string): Promise<boolean> {
  return lstat(file).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** fsync of a directory; filesystems that cannot (some network ones) report EINVAL or EISDIR, which we accept. */
async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync().catch((err: unknown) => {
      const code = errorCode(err);
      if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'ENOTSUP') throw err;
    });
  } finally {
    await handle.close();
  }
}
