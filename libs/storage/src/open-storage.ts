import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openAzureStorage } from './azure/azure-storage';
import { LocalStorage } from './local/local-storage';
import { openS3Storage } from './s3/s3-storage';
import { openSftpStorage } from './sftp/sftp-storage';
import { StorageError } from './storage';
import type { Storage } from './storage';

/** What a user may write, quoted in every refusal so the fix is obvious. */
const SUPPORTED =
  'supported: a local path, file:///path, s3:http(s)://HOST[:PORT]/BUCKET[/PREFIX], azure:ACCOUNT/CONTAINER[/PREFIX], sftp:USER@HOST[:PORT]/PATH';

/** Options of openStorage. */
export interface OpenStorageOptions {
  /**
   * Where drivers read credentials and settings (AWS_*, AZURE_*, COFFER_SFTP_*; see
   * docs/storage.md). Defaults to process.env; the agent passes a job's own variables so
   * they never enter its process environment.
   */
  env?: NodeJS.ProcessEnv;
}

/** A driver: parses its location (throwing a permanent StorageError that names what is wrong) and does no I/O. */
type DriverOpener = (location: string, env: NodeJS.ProcessEnv) => Storage;

const DRIVERS: ReadonlyMap<string, DriverOpener> = new Map([
  ['s3', openS3Storage],
  ['azure', openAzureStorage],
  ['sftp', openSftpStorage],
]);

/** `s3:…`, `sftp:…`, `file:…`: letters then ':' (RFC 3986 scheme). */
const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;

/**
 * Opens the storage a repository location names: a local path (relative paths resolve
 * against the working directory), a `file:///absolute/path` URL, or an `s3:`, `azure:` or
 * `sftp:` location. Does no I/O, so a missing directory, bucket or server shows up on first
 * use, where the error names the object.
 */
export function openStorage(location: string, options: OpenStorageOptions = {}): Storage {
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (location.trim() === '') throw new StorageError(`storage location is empty (${SUPPORTED})`, true);
    return new LocalStorage(path.resolve(location));
  }
  if (scheme === 'file') return new LocalStorage(filePath(location));
  const driver = DRIVERS.get(scheme);
  if (driver) return driver(location, options.env ?? process.env);
  throw new StorageError(
    `storage "${describeLocation(location)}" is not supported (${SUPPORTED}); for a local directory whose name contains ":", write ./${describeLocation(location)}`,
    true,
  );
}

/** True for a local path or `file:` URL: storage where a read is a copy from the page cache, not a round trip. */
export function isLocalLocation(location: string): boolean {
  const scheme = SCHEME.exec(location)?.[1]?.toLowerCase();
  return scheme === undefined || scheme === 'file';
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
