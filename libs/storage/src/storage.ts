/**
 * The one storage interface every driver implements (local, and later s3, azure, sftp).
 *
 * Object names are logical, '/'-separated, e.g. `config`, `keys/<id>`, `data/<64 hex>`,
 * `index/<64 hex>`, `snapshots/<64 hex>`, `locks/<id>`. How a driver lays them out
 * (directory fan-out, prefixes) is its own business; `list()` always returns logical names.
 *
 * Contracts every driver keeps (the conformance suite checks each one):
 * - put() is atomic: a reader sees the whole object or nothing, never a prefix.
 *   When put() resolves, the object is durable (fsync'd / acknowledged by the service).
 * - put() of an existing name replaces it atomically, unless `exclusive` is set, in which
 *   case it fails with AlreadyExistsError and leaves the stored object untouched.
 *   Content-addressed objects make put() idempotent: writing the same name twice is harmless.
 * - get()/getRange()/stat() of a missing object fail with NotFoundError (permanent).
 * - getRange() past the end of the object fails with a RangeError-like StorageError (permanent).
 * - delete() of a missing object succeeds (idempotent).
 * - list(prefix) yields every object whose name starts with `prefix + '/'`, in no set order.
 * - Errors are StorageError subclasses; `permanent` says whether retrying can help.
 *   Messages name the storage location and the object.
 */
export interface Storage {
  /** Where this storage is, for messages; never contains secrets. */
  readonly location: string;
  put(name: string, data: Uint8Array, options?: PutOptions): Promise<void>;
  get(name: string): Promise<Buffer>;
  getRange(name: string, offset: number, length: number): Promise<Buffer>;
  stat(name: string): Promise<ObjectInfo>;
  exists(name: string): Promise<boolean>;
  list(prefix: string): AsyncIterable<ObjectInfo>;
  delete(name: string): Promise<void>;
  /** Releases handles; the storage is unusable afterwards. */
  close(): Promise<void>;
}

/** Options for Storage.put. */
export interface PutOptions {
  /** Fail with AlreadyExistsError instead of replacing an existing object. */
  exclusive?: boolean;
}

/** What a listing or stat reports of one object. */
export interface ObjectInfo {
  name: string;
  size: number;
}

/** Base of every storage failure. */
export class StorageError extends Error {
  constructor(
    message: string,
    /** True when retrying the same call cannot succeed. */
    readonly permanent: boolean,
    /** The object concerned, when there is one. */
    readonly objectName?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The object does not exist. */
export class NotFoundError extends StorageError {
  constructor(location: string, objectName: string) {
    super(`${objectName} not found in ${location}`, true, objectName);
  }
}

/** put(..., { exclusive: true }) found the name taken. */
export class AlreadyExistsError extends StorageError {
  constructor(location: string, objectName: string) {
    super(`${objectName} already exists in ${location}`, true, objectName);
  }
}

/**
 * The storage refused the call for lack of rights (a 403, EACCES, SFTP permission denied).
 * Permanent. Writers run with credentials that may lack delete rights (see docs/storage.md),
 * so callers that can do without a delete catch this one.
 */
export class AccessDeniedError extends StorageError {
  constructor(location: string, operation: string, objectName: string | undefined, detail: string, options?: { cause?: unknown }) {
    super(`${location} refused to ${operation}${objectName ? ` ${objectName}` : ''}: access denied (${detail})`, true, objectName, options);
  }
}

/** The storage has no space left; nothing partial was left behind by the failed call. */
export class StorageFullError extends StorageError {
  constructor(location: string, objectName: string, options?: { cause?: unknown }) {
    super(`no space left on ${location} while writing ${objectName}`, true, objectName, options);
  }
}

/** Storage.exists() in terms of stat(): true if it finds the object, false on NotFoundError. */
export async function existsByStat(storage: Pick<Storage, 'stat'>, name: string): Promise<boolean> {
  try {
    await storage.stat(name);
    return true;
  } catch (err) {
    if (err instanceof NotFoundError) return false;
    throw err;
  }
}
