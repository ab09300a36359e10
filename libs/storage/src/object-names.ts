import { StorageError } from './storage';

/**
 * Names of objects being written by the drivers that write a temp file and rename it (local,
 * sftp). A writer killed mid-put leaves one behind; list() never reports them, and no object
 * name may start so.
 */
export const TEMP_PREFIX = '.tmp-';

/** Top-level prefixes holding content-addressed objects, fanned out by their first two hex digits in directory layouts. */
const FAN_OUT_PREFIXES: ReadonlySet<string> = new Set(['data', 'index', 'snapshots']);

/** Lower-case only, so names cannot collide on case-insensitive filesystems. */
export const HEX_NAME = /^[0-9a-f]{2,}$/;

/**
 * Why a logical object name (or list prefix) is refused, or undefined. Every driver applies
 * the same rules, so names stay portable between storages and cannot escape a driver's root:
 * no empty or "." segments, no "..", no leading "/", no backslash or control characters, and
 * no segment that looks like a temp file.
 */
export function objectNameProblem(name: string): string | undefined {
  if (name === '') return 'it is empty';
  // eslint-disable-next-line no-control-regex -- control characters are what is looked for
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it contains a control character';
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/')) return 'it starts with "/"';
  if (name.includes('..')) return 'it contains ".."';
  const segments = name.split('/');
  if (segments.some((s) => s === '')) return 'it has an empty path segment';
  if (segments.some((s) => s === '.')) return 'it has a "." path segment';
  if (segments.some((s) => s.startsWith(TEMP_PREFIX))) return `a path segment starts with "${TEMP_PREFIX}"`;
  return undefined;
}

/** Throws the permanent StorageError every driver gives for a refused name. */
export function assertObjectName(location: string, name: string, what: 'name' | 'prefix', extraProblem?: (name: string) => string | undefined): void {
  const problem = objectNameProblem(name) ?? extraProblem?.(name);
  if (problem !== undefined) throw new StorageError(`invalid object ${what} ${JSON.stringify(name)} for ${location}: ${problem}`, true, name);
}

/** True for a top-level prefix whose objects are fanned out in directory layouts. */
export function isFannedOut(prefix: string): boolean {
  return FAN_OUT_PREFIXES.has(prefix);
}

/**
 * How a directory layout (local, sftp) lists `prefix`: a fanned-out prefix (`data`) by its
 * two-hex-digit folders, whose objects all sit exactly one segment below it (so a deeper
 * prefix, `data/ab`, holds nothing); any other prefix as a plain directory tree.
 */
export function listingLayout(prefix: string): 'fanned-out' | 'tree' | 'empty' {
  const segments = prefix.split('/');
  if (!isFannedOut(segments[0])) return 'tree';
  return segments.length === 1 ? 'fanned-out' : 'empty';
}

/**
 * The path segments of an object (or list prefix) in a directory layout (local, sftp):
 * `data/ab12…` is `data/ab/ab12…`, so no directory holds millions of entries; other names
 * as given. Refused names throw, naming `location`.
 */
export function directorySegments(location: string, name: string, what: 'name' | 'prefix'): string[] {
  assertObjectName(location, name, what);
  const segments = name.split('/');
  if (what === 'prefix' || !isFannedOut(segments[0])) return segments;
  const hex = segments.length === 2 ? segments[1] : '';
  if (!HEX_NAME.test(hex)) {
    throw new StorageError(`invalid object name ${JSON.stringify(name)} for ${location}: objects under ${segments[0]}/ are named by lower-case hex digits`, true, name);
  }
  return [segments[0], hex.slice(0, 2), hex];
}
