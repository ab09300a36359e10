import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStorage } from './local/local-storage';
import { StorageError } from './storage';
import type { Storage } from './storage';

/** What a user may write today, quoted in every refusal so the fix is obvious. */
const SUPPORTED = 'supported: a local path or file:///path';

/** Drivers on the roadmap (DESIGN.md); any other scheme is more likely a directory name with a ':' in it. */
const PLANNED_SCHEMES: ReadonlySet<string> = new Set(['s3', 'azure', 'sftp']);

/** `s3:…`, `sftp:…`, `file:…`: letters then ':' (RFC 3986 scheme). */
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/**
 * Opens the storage a repository location names: a local path (relative paths resolve
 * against the working directory) or a `file:///absolute/path` URL. Does no I/O, so a
 * missing directory shows up on first use, where the error names the object.
 */
export function openStorage(location: string): Storage {
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (location.trim() === '') throw new StorageError(`storage location is empty (${SUPPORTED})`, true);
    return new LocalStorage(path.resolve(location));
  }
  if (scheme === 'file') return new LocalStorage(filePath(location));
  const hint = PLANNED_SCHEMES.has(scheme)
    ? ''
    : `; for a local directory whose name contains ":", write ./${describeLocation(location)}`;
  throw new StorageError(`storage "${describeLocation(location)}" is not supported yet (${SUPPORTED})${hint}`, true);
}

/**
 * A location fit for logs and messages: a password in `//user:password@host`
 * is masked, since locations come from configuration that may embed credentials.
 */
export function describeLocation(location: string): string {
  // Anywhere, not just at the start: `s3:https://key:secret@host/bucket` nests a URL.
  return location.replace(/(\/\/[^/@:]*):[^/@]*@/g, '$1:***@');
}

/** The absolute path in a file: URL; only the local host is accepted, and %-escapes are decoded. */
function filePath(location: string): string {
  if (!/^file:\/\//i.test(location)) {
    throw new StorageError(`storage "${describeLocation(location)}" is not a file:///absolute/path URL (${SUPPORTED})`, true);
  }
  try {
    return path.resolve(fileURLToPath(location));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new StorageError(`storage "${describeLocation(location)}" is not a usable file: URL: ${reason} (${SUPPORTED})`, true, undefined, {
      cause: err,
    });
  }
}

/**
 * Runs `work` with `storage` and closes it whatever happens. A failure to close (releasing
 * handles) never hides the outcome of the work itself, which is what the caller reports.
 */
export async function usingStorage<T>(storage: Storage, work: (storage: Storage) => Promise<T>): Promise<T> {
  try {
    return await work(storage);
  } finally {
    await storage.close().catch(() => undefined);
  }
}
