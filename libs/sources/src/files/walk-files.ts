import * as fs from 'node:fs';
import * as path from 'node:path';
import * as util from 'node:util';
import picomatch from 'picomatch';
import type { FsEntry, FsEntryType, WalkEvent } from '@coffer/contracts';

/** What to walk besides the roots: glob filters and whether to stay on each root's filesystem. */
export interface WalkOptions {
  /** If given, only files and symlinks matching one of these are recorded; directories always are. */
  include?: string[];
  /** Entries matching one of these are skipped, a directory with its whole subtree. Wins over include. */
  exclude?: string[];
  /** Do not descend into directories on another device than their root (mount points are recorded empty). */
  oneFileSystem?: boolean;
}

type WarningEvent = Extract<WalkEvent, { kind: 'warning' }>;

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFSOCK, S_IFIFO, S_IFBLK, S_IFCHR } = fs.constants;

/**
 * The walk hands control back to the event loop (a macrotask, not just a microtask) after this many
 * entries. An async generator whose body never awaits real I/O runs its consumer's `for await` entirely
 * in microtasks, which starves timers and sockets (heartbeats, progress) for the whole walk.
 */
const ENTRIES_PER_BREAK = 1024;

/**
 * Walks each root depth-first, pre-order, emitting the WalkEvent sequence described in contracts.
 *
 * Roots are resolved, de-duplicated and sorted; a root lying inside another (through real
 * directories) is walked as part of it, and stays included even when a filter or `oneFileSystem`
 * would have skipped it or one of its ancestors. Roots themselves are never filtered. Throws
 * synchronously, before anything is yielded, when a pattern is bad or a root does not exist.
 * Unreadable, vanished and special entries become `warning` events; the walk does not throw for them.
 */
export function walkFiles(roots: string[], options: WalkOptions = {}): AsyncGenerator<WalkEvent> {
  const filters = compileFilterSet(options);
  const plan = planRoots(roots);
  return walkPlanned(plan, filters, options.oneFileSystem === true);
}

/**
 * Validates patterns up front; throws Error listing each bad pattern.
 *
 * The returned function gives the verdict for one entry whose parent directory the walk entered:
 * a pattern with a '/' matches the absolute path (a relative one anywhere below a root, as if it
 * began with `**∕`), one without matches the base name; a trailing '/' limits a pattern to
 * directories. Matching uses picomatch with `dot: true`.
 */
export function compileFilters(options: WalkOptions): (absPath: string, isDir: boolean) => 'keep' | 'skip' {
  const filters = compileFilterSet(options);
  return (absPath, isDir) => {
    const name = baseName(absPath);
    return filters.skipsEarly(absPath, name) || filters.skipsLate(absPath, name, isDir) ? 'skip' : 'keep';
  };
}

// ---------------------------------------------------------------------------------------------
// Filters

type Matcher = (input: string) => boolean;

/** Compiled filters split by when they can be decided: before lstat (path only) or after (needs the type). */
interface FilterSet {
  /** True if the entry is excluded whatever its type, so the walk need not even lstat it. */
  skipsEarly(absPath: string, name: string): boolean;
  /** True if the entry is excluded by a directory-only pattern, or is a non-directory that no include matches. */
  skipsLate(absPath: string, name: string, isDir: boolean): boolean;
}

interface MatcherGroup {
  byName: Matcher | null;
  byPath: Matcher | null;
}

const NO_FILTERS: FilterSet = { skipsEarly: () => false, skipsLate: () => false };

function compileFilterSet(options: WalkOptions): FilterSet {
  const problems: string[] = [];
  const excludeAny = newGroupSource();
  const excludeDirs = newGroupSource();
  const include = newGroupSource();
  for (const raw of options.exclude ?? []) {
    const parsed = parsePattern(raw, 'exclude', problems);
    if (parsed) (parsed.dirOnly ? excludeDirs : excludeAny)[parsed.onName ? 'names' : 'paths'].push(parsed.glob);
  }
  for (const raw of options.include ?? []) {
    const parsed = parsePattern(raw, 'include', problems);
    if (parsed?.dirOnly) {
      problems.push(`include pattern ${JSON.stringify(raw)}: a trailing '/' matches only directories, which are always kept`);
    } else if (parsed) {
      include[parsed.onName ? 'names' : 'paths'].push(parsed.glob);
    }
  }
  if (problems.length > 0) {
    throw new Error(`bad filter pattern${problems.length > 1 ? 's' : ''}:\n  ${problems.join('\n  ')}`);
  }
  const early = compileGroup(excludeAny);
  const dirsOnly = compileGroup(excludeDirs);
  const inc = compileGroup(include);
  const hasInclude = inc.byName !== null || inc.byPath !== null;
  if (!early.byName && !early.byPath && !dirsOnly.byName && !dirsOnly.byPath && !hasInclude) return NO_FILTERS;
  return {
    skipsEarly: (absPath, name) => matches(early, absPath, name),
    skipsLate: (absPath, name, isDir) =>
      isDir ? matches(dirsOnly, absPath, name) : hasInclude && !matches(inc, absPath, name),
  };
}

function newGroupSource(): { names: string[]; paths: string[] } {
  return { names: [], paths: [] };
}

function parsePattern(
  raw: unknown,
  list: 'include' | 'exclude',
  problems: string[],
): { glob: string; onName: boolean; dirOnly: boolean } | null {
  const label = `${list} pattern ${JSON.stringify(raw)}`;
  if (typeof raw !== 'string' || raw === '') {
    problems.push(`${label}: must be a non-empty string`);
    return null;
  }
  if (raw.includes('\0')) {
    problems.push(`${label}: contains a NUL character`);
    return null;
  }
  let glob = raw;
  const dirOnly = glob.length > 1 && glob.endsWith('/');
  if (dirOnly) glob = glob.replace(/\/+$/, '');
  if (glob === '' || glob === '/') {
    problems.push(`${label}: would match only the filesystem root`);
    return null;
  }
  const onName = !glob.includes('/');
  if (!onName && !glob.startsWith('/') && !glob.startsWith('**/')) glob = `**/${glob}`;
  try {
    // strictBrackets and debug turn silent never-matching globs (`*.{jpg,png`, `[z-a]`) into errors.
    picomatch(glob, { dot: true, strictBrackets: true, debug: true });
  } catch (err) {
    problems.push(`${label}: ${(err as Error).message}`);
    return null;
  }
  return { glob, onName, dirOnly };
}

function compileGroup(source: { names: string[]; paths: string[] }): MatcherGroup {
  return {
    byName: source.names.length > 0 ? picomatch(source.names, { dot: true }) : null,
    byPath: source.paths.length > 0 ? picomatch(source.paths, { dot: true }) : null,
  };
}

function matches(group: MatcherGroup, absPath: string, name: string): boolean {
  return (group.byName !== null && group.byName(name)) || (group.byPath !== null && group.byPath(absPath));
}

// ---------------------------------------------------------------------------------------------
// Roots

/** Roots to walk at top level, and roots covered by one of them that must survive skips. */
interface RootPlan {
  top: string[];
  nested: NestedRoots;
}

/** Explicit roots lying inside another root, and every directory on the way to one. */
interface NestedRoots {
  roots: Set<string>;
  ancestors: Set<string>;
}

const REL_NONE = 0;
const REL_ROOT = 1;
const REL_LEADS = 2;

function planRoots(given: string[]): RootPlan {
  const stats = new Map<string, fs.BigIntStats>();
  const problems: string[] = [];
  for (const raw of given) {
    const abs = path.resolve(raw);
    if (stats.has(abs)) continue;
    try {
      const st = fs.lstatSync(abs, { bigint: true, throwIfNoEntry: false });
      if (st) stats.set(abs, st);
      else problems.push(`path does not exist: ${raw}`);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') problems.push(`path does not exist: ${raw}`);
      else problems.push(`cannot read ${raw}: ${describeError(err)}`);
    }
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));

  const all = [...stats.keys()].sort(compareNames);
  const top: string[] = [];
  const nested: NestedRoots = { roots: new Set(), ancestors: new Set() };
  for (const candidate of all) {
    if (!isCovered(candidate, all, stats)) {
      top.push(candidate);
      continue;
    }
    nested.roots.add(candidate);
    for (let dir = path.dirname(candidate); !nested.ancestors.has(dir); dir = path.dirname(dir)) {
      nested.ancestors.add(dir);
      if (dir === '/') break;
    }
  }
  return { top, nested };
}

/** A root is covered by another when that one is a directory and every step down to it is a real directory. */
function isCovered(candidate: string, all: string[], stats: Map<string, fs.BigIntStats>): boolean {
  for (const outer of all) {
    if (outer === candidate || !isInside(candidate, outer)) continue;
    if (fileType(stats.get(outer)!) !== S_IFDIR) continue;
    let throughDirs = true;
    for (let dir = path.dirname(candidate); dir !== outer; dir = path.dirname(dir)) {
      const st = fs.lstatSync(dir, { bigint: true, throwIfNoEntry: false });
      if (!st || fileType(st) !== S_IFDIR) {
        throughDirs = false;
        break;
      }
    }
    if (throughDirs) return true;
  }
  return false;
}

function isInside(child: string, parent: string): boolean {
  return child.startsWith(parent === '/' ? '/' : `${parent}/`);
}

function relationToNested(nested: NestedRoots, absPath: string): number {
  if (nested.roots.has(absPath)) return REL_ROOT;
  return nested.ancestors.has(absPath) ? REL_LEADS : REL_NONE;
}

/** Names of the children of `dir` that are nested roots or lead to one, sorted like a listing. */
function namesTowardNested(nested: NestedRoots, dir: string): string[] {
  const names = new Set<string>();
  for (const p of [...nested.roots, ...nested.ancestors]) {
    if (p !== dir && path.dirname(p) === dir) names.add(baseName(p));
  }
  return [...names].sort(compareNames);
}

// ---------------------------------------------------------------------------------------------
// The walk

/** A directory being listed: its entry, its sorted child names and how far the walk got. */
interface Frame {
  entry: FsEntry;
  names: string[];
  next: number;
  /** Device of the root this subtree belongs to (for oneFileSystem). */
  dev: bigint;
  /** Only descend toward nested roots: the directory itself was skipped but leads to an explicit root. */
  toward: boolean;
}

async function* walkPlanned(plan: RootPlan, filters: FilterSet, oneFileSystem: boolean): AsyncGenerator<WalkEvent> {
  const { nested } = plan;
  const hasNested = nested.roots.size > 0;
  const stack: Frame[] = [];
  let sinceBreak = 0;

  // Pushes a frame for a directory, or yields what replaces it when it cannot be listed.
  async function* openDir(entry: FsEntry, dev: bigint, toward: boolean): AsyncGenerator<WalkEvent> {
    if (toward) {
      yield { kind: 'dir-enter', entry };
      stack.push({ entry, names: namesTowardNested(nested, entry.absPath), next: 0, dev, toward });
      return;
    }
    const listed = listDir(entry.absPath);
    if (Array.isArray(listed)) {
      yield { kind: 'dir-enter', entry };
      stack.push({ entry, names: listed, next: 0, dev, toward });
      return;
    }
    if (listed.skipped === 'vanished') {
      yield listed;
      return;
    }
    yield { kind: 'dir-enter', entry };
    yield listed;
    if (hasNested && nested.ancestors.has(entry.absPath)) {
      // The listing failed, but the way to an explicitly given root is known without it.
      stack.push({ entry, names: namesTowardNested(nested, entry.absPath), next: 0, dev, toward: true });
      return;
    }
    yield { kind: 'dir-leave', entry };
  }

  for (const root of plan.top) {
    yield { kind: 'root', absPath: root };
    const got = lstatEntry(root, root === '/' ? '/' : baseName(root));
    if (!isEntry(got)) {
      yield got;
      continue;
    }
    if (got.type !== 'dir') {
      yield { kind: 'entry', entry: got };
      continue;
    }
    yield* openDir(got, got.dev, false);

    while (stack.length > 0) {
      const frame = stack[stack.length - 1];
      if (frame.next >= frame.names.length) {
        stack.pop();
        yield { kind: 'dir-leave', entry: frame.entry };
        continue;
      }
      if (++sinceBreak >= ENTRIES_PER_BREAK) {
        sinceBreak = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      const name = frame.names[frame.next++];
      const dirPath = frame.entry.absPath;
      const absPath = dirPath === '/' ? `/${name}` : `${dirPath}/${name}`;
      const rel = hasNested ? relationToNested(nested, absPath) : REL_NONE;
      if (frame.toward && rel === REL_NONE) continue;
      if (rel === REL_NONE && filters.skipsEarly(absPath, name)) continue;

      const got = lstatEntry(absPath, name);
      if (!isEntry(got)) {
        // A special file nobody asked for is not worth a warning.
        if (got.skipped === 'special' && rel === REL_NONE && filters.skipsLate(absPath, name, false)) continue;
        yield got;
        continue;
      }
      const isDir = got.type === 'dir';

      if (rel === REL_ROOT) {
        // An explicitly given root: never filtered, and its own device bounds oneFileSystem below it.
        if (isDir) yield* openDir(got, got.dev, false);
        else yield { kind: 'entry', entry: got };
        continue;
      }
      if (frame.toward) {
        if (isDir) yield* openDir(got, frame.dev, true);
        continue;
      }
      const skipped = (rel !== REL_NONE && filters.skipsEarly(absPath, name)) || filters.skipsLate(absPath, name, isDir);
      if (skipped) {
        if (isDir && rel === REL_LEADS) yield* openDir(got, frame.dev, true);
        continue;
      }
      if (!isDir) {
        yield { kind: 'entry', entry: got };
        continue;
      }
      if (oneFileSystem && got.dev !== frame.dev) {
        if (rel === REL_LEADS) {
          yield* openDir(got, frame.dev, true);
        } else {
          // A mount point: recorded, but empty, like restic.
          yield { kind: 'dir-enter', entry: got };
          yield { kind: 'dir-leave', entry: got };
        }
        continue;
      }
      yield* openDir(got, frame.dev, false);
    }
  }
}

function isEntry(value: FsEntry | WarningEvent): value is FsEntry {
  return (value as WarningEvent).kind !== 'warning';
}

/** Sorted child names of a directory, or the warning that replaces its contents. */
function listDir(dir: string): string[] | WarningEvent {
  let names: string[];
  try {
    names = fs.readdirSync(dir, { encoding: 'utf8', withFileTypes: false });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { kind: 'warning', path: dir, message: 'directory vanished before it could be read', skipped: 'vanished' };
    }
    return { kind: 'warning', path: dir, message: `cannot read directory: ${describeError(err)}`, skipped: 'unreadable' };
  }
  return names.sort(compareNames);
}

/** The lstat of one path as an FsEntry, or the warning that replaces it. */
function lstatEntry(absPath: string, name: string): FsEntry | WarningEvent {
  let st: fs.BigIntStats | undefined;
  try {
    st = fs.lstatSync(absPath, { bigint: true, throwIfNoEntry: false });
  } catch (err) {
    return failure(absPath, err);
  }
  if (st === undefined) {
    if (name.includes('\uFFFD')) {
      // readdir decoded a name that is not valid UTF-8; the decoded string names no file.
      return { kind: 'warning', path: absPath, message: 'file name is not valid UTF-8', skipped: 'unreadable' };
    }
    return { kind: 'warning', path: absPath, message: 'vanished before it could be read', skipped: 'vanished' };
  }
  let type: FsEntryType;
  let linkTarget: string | undefined;
  switch (fileType(st)) {
    case S_IFREG:
      type = 'file';
      break;
    case S_IFDIR:
      type = 'dir';
      break;
    case S_IFLNK:
      type = 'symlink';
      try {
        linkTarget = fs.readlinkSync(absPath);
      } catch (err) {
        return failure(absPath, err);
      }
      break;
    default:
      return { kind: 'warning', path: absPath, message: `skipped ${specialName(st)}`, skipped: 'special' };
  }
  const entry: FsEntry = {
    absPath,
    name,
    type,
    mode: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    mtimeNs: st.mtimeNs,
    size: type === 'file' ? Number(st.size) : 0,
    ino: st.ino,
    dev: st.dev,
    nlink: Number(st.nlink),
  };
  if (linkTarget !== undefined) entry.linkTarget = linkTarget;
  return entry;
}

function failure(absPath: string, err: unknown): WarningEvent {
  const code = (err as NodeJS.ErrnoException).code;
  // ENOENT/ENOTDIR: deleted or replaced since the listing; EINVAL from readlink: no longer a symlink.
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EINVAL') {
    return { kind: 'warning', path: absPath, message: 'vanished before it could be read', skipped: 'vanished' };
  }
  return { kind: 'warning', path: absPath, message: `cannot read: ${describeError(err)}`, skipped: 'unreadable' };
}

function fileType(st: fs.BigIntStats): number {
  return Number(st.mode) & S_IFMT;
}

function specialName(st: fs.BigIntStats): string {
  switch (fileType(st)) {
    case S_IFSOCK:
      return 'socket';
    case S_IFIFO:
      return 'FIFO';
    case S_IFBLK:
      return 'block device';
    case S_IFCHR:
      return 'character device';
    default:
      return `file of unknown type (mode ${Number(st.mode).toString(8)})`;
  }
}

/** The operating system's text for an fs error ("permission denied (EACCES)"), else its message. */
function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno === 'number' && e.code) {
    const text = util.getSystemErrorMap().get(e.errno)?.[1];
    if (text) return `${text} (${e.code})`;
  }
  return e instanceof Error ? e.message : String(err);
}

function baseName(absPath: string): string {
  return absPath.slice(absPath.lastIndexOf('/') + 1);
}

/**
 * Orders names by the bytes of their UTF-8 encoding, which is code point order. Plain `<` compares
 * UTF-16 code units and puts astral characters (surrogates, 0xD800–0xDFFF) before 0xE000–0xFFFF.
 */
function compareNames(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** What a backup will go through, filled in by estimateWalk as it counts; `done` once complete. */
export interface WalkEstimate {
  files: number;
  bytes: number;
  done: boolean;
}

/**
 * Counts the files and bytes under `paths` with a second, metadata-only walk that runs
 * alongside the backup, so progress can show totals (a percentage, an ETA) once the count is
 * in. Only an estimate: it never throws (the backup's own walk reports every problem) and
 * stops when `signal` fires.
 */
export function estimateWalk(paths: string[], options: WalkOptions, signal?: AbortSignal): WalkEstimate {
  const estimate: WalkEstimate = { files: 0, bytes: 0, done: false };
  void (async () => {
    for await (const event of walkFiles(paths, options)) {
      if (signal?.aborted) return;
      if (event.kind === 'entry' && event.entry.type === 'file') {
        estimate.files++;
        estimate.bytes += event.entry.size;
      }
    }
    estimate.done = true;
  })().catch(() => undefined);
  return estimate;
}

