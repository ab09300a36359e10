import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { FileEntryWithStats, Stats } from 'ssh2';
import { directorySegments, HEX_NAME, listingLayout, TEMP_PREFIX } from '../object-names';
import { DEFAULT_RETRY_POLICY, withRetries } from '../retry';
import type { RetryPolicy } from '../retry';
import { AccessDeniedError, AlreadyExistsError, existsByStat, NotFoundError, StorageError, StorageFullError } from '../storage';
import type { ObjectInfo, PutOptions, Storage } from '../storage';
import { parseSftpLocation } from './sftp-location';
import type { SftpTarget } from './sftp-location';
import { MissingExtensionError, SFTP_STATUS, SftpConnectionError, messageOf, openSftpSession, sftpStatus } from './sftp-session';
import type { SftpSession, SftpTimeouts } from './sftp-session';
import { readSftpSettings } from './sftp-settings';
import type { SftpSettings } from './sftp-settings';

/** Options of openSftpStorage; tests shorten them, production keeps the defaults. */
export interface SftpStorageOptions {
  retryPolicy?: RetryPolicy;
  timeouts?: Partial<SftpTimeouts>;
}

/** Long enough for a slow NAS waking its disks; a connection silent for about a minute is dead. */
const DEFAULT_SFTP_TIMEOUTS: SftpTimeouts = { connectTimeoutMs: 20_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 4 };

/**
 * Opens the storage at `sftp:USER@HOST[:PORT]/PATH` (or `sftp://…`), with the key and the
 * host key pinning from the COFFER_SFTP_* variables of `env` (see sftp-settings.ts).
 * Checks the location and settings now, throwing a permanent StorageError that names every
 * problem; connects on first use.
 */
export function openSftpStorage(location: string, env: NodeJS.ProcessEnv, options: SftpStorageOptions = {}): Storage {
  const target = parseSftpLocation(location);
  return new SftpStorage(target, readSftpSettings(env, target.display), options);
}

/** Read-only, as in the local driver: a stray tool cannot damage an object in place. */
const OBJECT_MODE = 0o444;

/**
 * Requests of one transfer kept in flight, and their size: OpenSSH's sftp(1) defaults.
 * One request per round trip would make every transfer crawl over a WAN.
 */
const TRANSFER_CHUNK_BYTES = 32 * 1024;
const REQUESTS_IN_FLIGHT = 64;

/** Fan-out directories read ahead while list() yields, as each read costs round trips. */
const LIST_READ_AHEAD = 8;

type Operation = 'read' | 'write' | 'delete' | 'list';

/**
 * Storage in a directory on an SFTP server, laid out as the local driver lays out its
 * directory (`data/<hex[0..2]>/<hex>` and so on), so a repository can be copied between them.
 *
 * One SSH connection and SFTP channel per storage, opened on first use and shared by
 * concurrent calls. A dropped connection fails the calls in flight with transient errors;
 * their retries (withRetries) open a new one. Needs OpenSSH's extensions
 * posix-rename@openssh.com and fsync@openssh.com for atomic, durable puts.
 */
class SftpStorage implements Storage {
  readonly location: string;
  private readonly retryPolicy: RetryPolicy;
  private readonly timeouts: SftpTimeouts;
  /** The current (or coming) session; dropped when it fails, so the next call dials again. */
  private connecting: Promise<SftpSession> | undefined;
  private closed = false;

  constructor(
    private readonly target: SftpTarget,
    private readonly settings: SftpSettings,
    options: SftpStorageOptions,
  ) {
    this.location = target.display;
    this.retryPolicy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.timeouts = { ...DEFAULT_SFTP_TIMEOUTS, ...options.timeouts };
  }

  async put(name: string, data: Uint8Array, options: PutOptions = {}): Promise<void> {
    const file = this.pathOf(name);
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const exclusive = options.exclusive === true;
    let renameSent = false;
    await this.retrying('write', name, async (session) => {
      const renameSentBefore = renameSent;
      try {
        await this.putOnce(session, name, file, bytes, exclusive, () => (renameSent = true));
      } catch (err) {
        // An earlier try's rename may have landed with its answer lost to a dropped
        // connection: the name is then taken by our own bytes, and the put has succeeded.
        if (err instanceof AlreadyExistsError && renameSentBefore && (await this.holdsExactly(session, name, file, bytes))) return;
        throw err;
      }
    });
  }

  async get(name: string): Promise<Buffer> {
    const file = this.pathOf(name);
    return this.retrying('read', name, (session) => this.readObject(session, name, file));
  }

  async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    const file = this.pathOf(name);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new StorageError(`cannot read ${name} in ${this.location}: invalid range offset=${offset} length=${length}`, true, name);
    }
    return this.retrying('read', name, (session) => this.readObject(session, name, file, { offset, length }));
  }

  async stat(name: string): Promise<ObjectInfo> {
    const file = this.pathOf(name);
    return this.retrying('read', name, async (session) => {
      const info = await session.stat(file);
      // A directory is part of the layout, not an object.
      if (!info.isFile()) throw new NotFoundError(this.location, name);
      return { name, size: info.size };
    });
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
    await this.retrying('delete', name, async (session) => {
      try {
        await session.unlink(file);
      } catch (err) {
        // Missing is success (a retry whose first try's answer was lost lands here too).
        if (sftpStatus(err) === SFTP_STATUS.NO_SUCH_FILE) return;
        // A directory is not an object, so it is missing too; unlink(2) says EISDIR, which SFTP calls a bare FAILURE.
        if (sftpStatus(err) === SFTP_STATUS.FAILURE && (await statIfExists(session, file))?.isDirectory()) return;
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const connecting = this.connecting;
    this.connecting = undefined;
    (await connecting?.catch(() => undefined))?.end();
  }

  /**
   * Runs `call` on the current session with withRetries, mapping every failure to a
   * StorageError naming the location and `name`. Calls failing with a lost connection
   * are retried on a new one.
   */
  private retrying<T>(operation: Operation, name: string, call: (session: SftpSession) => Promise<T>): Promise<T> {
    return withRetries(async () => {
      try {
        return await call(await this.session());
      } catch (err) {
        throw this.storageError(operation, name, err);
      }
    }, this.retryPolicy);
  }

  private async session(): Promise<SftpSession> {
    for (;;) {
      if (this.closed) throw new SftpConnectionError('the storage was closed', true);
      const connecting = (this.connecting ??= this.connect());
      const session = await connecting;
      if (session.alive) return session;
      if (this.connecting === connecting) this.connecting = undefined;
    }
  }

  private connect(): Promise<SftpSession> {
    const connecting = openSftpSession(this.target, this.settings, this.timeouts);
    // A failed connect is forgotten, so the next call (a retry, typically) dials again.
    connecting.catch(() => {
      if (this.connecting === connecting) this.connecting = undefined;
    });
    return connecting;
  }

  /**
   * Writes a temp file beside the target, fsyncs and closes it, then renames it into place:
   * readers see the old object or the new one, never a part. `onRename` is called just
   * before the rename is sent.
   */
  private async putOnce(session: SftpSession, name: string, file: string, bytes: Buffer, exclusive: boolean, onRename: () => void): Promise<void> {
    const dir = posix.dirname(file);
    const temp = posix.join(dir, TEMP_PREFIX + randomBytes(8).toString('hex'));
    const handle = await this.createTemp(session, name, dir, temp);
    let tempExists = true;
    try {
      try {
        await inChunks(bytes.length, (at, size) => session.write(handle, bytes, at, size, at));
        // Before the rename: otherwise a crash can leave the final name pointing at an empty file.
        await session.fsync(handle);
      } catch (err) {
        await session.close(handle).catch(() => undefined);
        throw err;
      }
      await session.close(handle);
      onRename();
      if (exclusive) {
        await this.renameExclusive(session, name, temp, file);
      } else {
        await session.renameReplacing(temp, file);
      }
      tempExists = false;
      // The rename is durable only once the directory entry is on disk.
      await syncDirectory(session, dir);
    } catch (err) {
      // Best effort: with the connection gone, or no right to remove, it stays behind, a .tmp- file list() skips.
      if (tempExists && session.alive) await session.unlink(temp).catch(() => undefined);
      throw await this.explainWriteFailure(session, name, file, bytes.length, err);
    }
  }

  /**
   * The plain SFTP rename never replaces its target, and OpenSSH implements it as link(2)
   * then unlink(2) of the temp file, so of several writers racing for one name exactly one
   * wins, with no window where a check and the rename could interleave. posix-rename would
   * replace silently. (On a filesystem without hard links, OpenSSH falls back to a stat
   * and a rename, where that race does exist.)
   */
  private async renameExclusive(session: SftpSession, name: string, temp: string, file: string): Promise<void> {
    try {
      await session.renameNoReplace(temp, file);
    } catch (err) {
      // EEXIST has no SFTP status code: OpenSSH answers a bare FAILURE, so look at the name.
      if (sftpStatus(err) === SFTP_STATUS.FAILURE && (await statIfExists(session, file)) !== undefined) {
        throw new AlreadyExistsError(this.location, name);
      }
      throw err;
    }
  }

  /** Opens a new temp file for writing, creating the directories on the way on first use. */
  private async createTemp(session: SftpSession, name: string, dir: string, temp: string): Promise<Buffer> {
    try {
      return await session.open(temp, 'wx', OBJECT_MODE);
    } catch (err) {
      if (sftpStatus(err) !== SFTP_STATUS.NO_SUCH_FILE) throw err;
    }
    const topmostCreated = await this.makeDirectories(session, name, dir);
    if (topmostCreated !== undefined) {
      // New directory entries are no more durable than new files.
      for (let d = posix.dirname(dir); ; d = posix.dirname(d)) {
        await syncDirectory(session, d);
        if (d === posix.dirname(topmostCreated) || d === posix.dirname(d)) break;
      }
    }
    return session.open(temp, 'wx', OBJECT_MODE);
  }

  /**
   * mkdir -p; returns the topmost directory it created, or undefined when all existed.
   * Another writer creating the same directory at the same moment is fine.
   */
  private async makeDirectories(session: SftpSession, name: string, dir: string): Promise<string | undefined> {
    try {
      await session.mkdir(dir);
      return dir;
    } catch (err) {
      if (sftpStatus(err) === SFTP_STATUS.NO_SUCH_FILE && dir !== posix.dirname(dir)) {
        const topmost = await this.makeDirectories(session, name, posix.dirname(dir));
        const created = await this.makeDirectories(session, name, dir);
        return topmost ?? created;
      }
      // OpenSSH reports an existing name as a bare FAILURE (and may report EACCES first): look.
      const existing = await statIfExists(session, dir);
      if (existing?.isDirectory()) return undefined;
      if (existing !== undefined) {
        throw new StorageError(`cannot write ${name} to ${this.location}: ${dir} is a file where a directory must be`, true, name);
      }
      throw err;
    }
  }

  /**
   * SFTP has no code for a full disk or a clash with a directory (both are a bare FAILURE),
   * so look: too little free space (statvfs@openssh.com) means full; a directory at the
   * target name means a clash. Anything else stays as it was (transient, as EIO may pass).
   */
  private async explainWriteFailure(session: SftpSession, name: string, file: string, size: number, err: unknown): Promise<unknown> {
    if (sftpStatus(err) !== SFTP_STATUS.FAILURE || !session.alive) return err;
    const free = await session.freeSpace(posix.dirname(file)).catch(() => undefined);
    if (free !== undefined && free.availableBytes < size) return new StorageFullError(this.location, name, { cause: err });
    if ((await statIfExists(session, file).catch(() => undefined))?.isDirectory()) {
      return new StorageError(`cannot write ${name} to ${this.location}: ${name} clashes with an existing directory`, true, name, { cause: err });
    }
    return err;
  }

  /** Whether `file` holds exactly `bytes` (to recognise our own earlier write). */
  private async holdsExactly(session: SftpSession, name: string, file: string, bytes: Buffer): Promise<boolean> {
    const stored = await this.readObject(session, name, file).catch(() => undefined);
    return stored !== undefined && stored.equals(bytes);
  }

  /**
   * Reads the whole object or `range` of it through one handle: a concurrent put renames a
   * new file into place but the open handle keeps reading the old one, so reads are consistent.
   */
  private async readObject(session: SftpSession, name: string, file: string, range?: { offset: number; length: number }): Promise<Buffer> {
    const handle = await session.open(file, 'r');
    try {
      const info = await session.fstat(handle);
      if (!info.isFile()) throw new NotFoundError(this.location, name);
      const { offset, length } = range ?? { offset: 0, length: info.size };
      if (offset + length > info.size) throw this.truncatedError(name, offset, length, info.size);
      const buffer = Buffer.alloc(length);
      await inChunks(length, async (at, size) => {
        for (let filled = 0; filled < size; ) {
          const bytesRead = await session.read(handle, buffer, at + filled, size - filled, offset + at + filled);
          // Shorter than fstat said: the file is not the object it was a moment ago.
          if (bytesRead === 0) throw this.truncatedError(name, offset, length, offset + at + filled);
          filled += bytesRead;
        }
      });
      return buffer;
    } finally {
      await session.close(handle).catch(() => undefined);
    }
  }

  /** `<root>/<prefix>/<xx>/<hex>`: anything else found there (temp files, strays) is not an object. */
  private async *listFannedOut(prefix: string, dir: string): AsyncIterable<ObjectInfo> {
    const buckets = (await this.readDirectory(prefix, dir))
      .filter((e) => e.attrs.isDirectory() && /^[0-9a-f]{2}$/.test(e.filename))
      .map((e) => e.filename);
    const reads: Promise<FileEntryWithStats[]>[] = [];
    const startRead = (index: number): void => {
      if (index >= buckets.length) return;
      reads[index] = this.readDirectory(prefix, posix.join(dir, buckets[index]));
      // Handled when awaited below; this only keeps a read nobody awaits any more (the caller stopped early) from going unhandled.
      reads[index].catch(() => undefined);
    };
    for (let i = 0; i < LIST_READ_AHEAD; i++) startRead(i);
    for (const [index, bucket] of buckets.entries()) {
      const entries = await reads[index];
      startRead(index + LIST_READ_AHEAD);
      for (const entry of entries) {
        if (entry.attrs.isFile() && HEX_NAME.test(entry.filename) && entry.filename.startsWith(bucket)) {
          yield { name: `${prefix}/${entry.filename}`, size: entry.attrs.size };
        }
      }
    }
  }

  /** Every file below `dir`, at any depth, as `prefix/relative/path`. */
  private async *listTree(prefix: string, dir: string): AsyncIterable<ObjectInfo> {
    for (const entry of await this.readDirectory(prefix, dir)) {
      if (entry.filename.startsWith(TEMP_PREFIX)) continue;
      const name = `${prefix}/${entry.filename}`;
      if (entry.attrs.isDirectory()) {
        yield* this.listTree(name, posix.join(dir, entry.filename));
      } else if (entry.attrs.isFile()) {
        yield { name, size: entry.attrs.size };
      }
    }
  }

  /** Entries of one directory, sizes included; a missing directory is an empty listing, not an error. */
  private readDirectory(prefix: string, dir: string): Promise<FileEntryWithStats[]> {
    return this.retrying('list', prefix, (session) =>
      session.readdir(dir).catch((err: unknown) => {
        if (sftpStatus(err) === SFTP_STATUS.NO_SUCH_FILE) return [];
        throw err;
      }),
    );
  }

  /** Maps a logical name (or a list prefix) to its path on the server, refusing names that could escape the root. */
  private pathOf(name: string, what: 'name' | 'prefix' = 'name'): string {
    return posix.join(this.target.root, ...directorySegments(this.location, name, what));
  }

  private truncatedError(name: string, offset: number, length: number, size: number): StorageError {
    return new StorageError(
      `${name} in ${this.location} is shorter than expected (truncated?): wanted bytes ${offset}..${offset + length} but it has ${size} bytes`,
      true,
      name,
    );
  }

  /**
   * SFTP status codes to StorageErrors: NO_SUCH_FILE is NotFoundError when reading,
   * PERMISSION_DENIED is AccessDeniedError, BAD_MESSAGE (EINVAL, a name too long) and
   * OP_UNSUPPORTED are permanent, a bare FAILURE is transient (it may be EIO). Connection
   * failures say themselves whether they are permanent; a missing extension is.
   */
  private storageError(operation: Operation, name: string, err: unknown): StorageError {
    if (err instanceof StorageError) return err;
    const failed = operation === 'write' ? `cannot write ${name} to ${this.location}` : `cannot ${operation} ${name} in ${this.location}`;
    const detail = messageOf(err);
    if (err instanceof SftpConnectionError) return new StorageError(`${failed}: ${detail}`, err.permanent, name, { cause: err });
    if (err instanceof MissingExtensionError) {
      return new StorageError(`${failed}: ${detail}, which Coffer needs (OpenSSH's sftp-server offers it)`, true, name, { cause: err });
    }
    const status = sftpStatus(err);
    if (status === SFTP_STATUS.NO_SUCH_FILE && operation === 'read') return new NotFoundError(this.location, name);
    if (status === SFTP_STATUS.PERMISSION_DENIED) {
      return new AccessDeniedError(this.location, operation, name, `SFTP: ${detail}`, { cause: err });
    }
    // Not an SFTP answer at all is a bug here, which retrying would only hide.
    const permanent = status === undefined || status === SFTP_STATUS.BAD_MESSAGE || status === SFTP_STATUS.OP_UNSUPPORTED;
    return new StorageError(`${failed}: ${detail}`, permanent, name, { cause: err });
  }
}

/**
 * Runs `transfer` over [0, length) in chunks with up to REQUESTS_IN_FLIGHT at once; after
 * a failure no new chunk starts.
 */
async function inChunks(length: number, transfer: (at: number, size: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < length) {
      const at = next;
      const size = Math.min(TRANSFER_CHUNK_BYTES, length - at);
      next += size;
      await transfer(at, size).catch((err: unknown) => {
        failed = true;
        throw err;
      });
    }
  };
  const workers = Math.min(REQUESTS_IN_FLIGHT, Math.ceil(length / TRANSFER_CHUNK_BYTES));
  await Promise.all(Array.from({ length: workers }, worker));
}

/**
 * fsync of a directory, so entries renamed or created in it are durable. OpenSSH opens a
 * directory like a file and fsync@openssh.com takes any handle; a server refusing either
 * leaves the entry to its filesystem's own timing, which is all SFTP can offer there.
 */
async function syncDirectory(session: SftpSession, dir: string): Promise<void> {
  const handle = await session.open(dir, 'r').catch((err: unknown) => {
    if (sftpStatus(err) === undefined) throw err;
    return undefined;
  });
  if (handle === undefined) return;
  try {
    await session.fsync(handle).catch((err: unknown) => {
      if (sftpStatus(err) === undefined) throw err;
    });
  } finally {
    await session.close(handle).catch(() => undefined);
  }
}

/** The attributes of `path`, or undefined when nothing is there. */
async function statIfExists(session: SftpSession, path: string): Promise<Stats | undefined> {
  try {
    return await session.stat(path);
  } catch (err) {
    if (sftpStatus(err) === SFTP_STATUS.NO_SUCH_FILE) return undefined;
    throw err;
  }
}

