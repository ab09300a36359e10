import { existsSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, rmSync, symlinkSync, chmodSync, utimesSync, chownSync } from 'node:fs';
import { join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { WriteOnlyKeyError } from '../crypto/envelope';
import type { Snapshot } from '../format/snapshot';
import type { TreeNode } from '../format/tree';
import { UsageError } from '../errors';
import type { Repository } from '../repository';
import type { RestoreFileJob } from '../worker/protocol';
import { WorkerPool } from '../worker/worker-pool';

/** Options of a restore. */
export interface RestoreOptions {
  target: string;
  /** Restore only paths matching one of these globs (a pattern without "/" matches names). */
  include?: string[];
  /** Replace what is in the way instead of refusing a non-empty target. */
  overwrite?: boolean;
  onProgress?: (progress: { files: number; bytes: number; elapsedMs: number }) => void;
  workers?: number;
}

/** How a restore ended; `errors` names every file that could not be restored. */
export interface RestoreResult {
  files: number;
  dirs: number;
  symlinks: number;
  bytes: number;
  errors: string[];
}

const BATCH_FILES = 256;
const BATCH_BYTES = 32 * 1024 * 1024;

/**
 * Restores a snapshot under `target`: contents byte for byte (every blob verified against its
 * id), modes, mtimes, symlinks, hard links, and ownership when running as root. Paths come
 * from validated tree names joined under the target, and nothing already there is followed,
 * so a hostile manifest cannot write outside the target. A file that cannot be restored is
 * removed and reported; the others are still restored.
 */
export async function restoreSnapshot(repo: Repository, snapshot: Snapshot, options: RestoreOptions): Promise<RestoreResult> {
  if (!repo.canRead) throw new WriteOnlyKeyError();
  const target = resolve(options.target);
  prepareTarget(target, !!options.overwrite);
  // Fresh, not cached: the snapshot may have been written by another process since.
  const index = await repo.loadIndex(true);
  const started = Date.now();
  const result: RestoreResult = { files: 0, dirs: 0, symlinks: 0, bytes: 0, errors: [] };
  const match = compileIncludes(options.include ?? []);
  const chown = process.getuid?.() === 0;
  const overwrite = !!options.overwrite;
  const pool = new WorkerPool(
    repo.workerSetup('reader'),
    {},
    options.workers,
  );
  const dirsToFinish: Array<{ path: string; node: TreeNode }> = [];
  const hardLinks = new Map<string, string>();
  const pendingLinks: Array<{ path: string; existing: string; snapshotPath: string }> = [];
  const window = pool.taskWindow();
  let batch: RestoreFileJob[] = [];
  let batchPaths: string[] = [];
  let batchBytes = 0;

  const dispatch = () => {
    if (batch.length === 0) return;
    const files = batch;
    const paths = batchPaths;
    batch = [];
    batchPaths = [];
    batchBytes = 0;
    const task: Promise<void> = pool.run<'restore-done'>({ type: 'restore', files }).then((done) => {
      done.errors.forEach((err, i) => {
        if (err === null) {
          result.files++;
          return;
        }
        result.errors.push(`${paths[i]}: ${err}`);
        rmSync(files[i].path, { force: true });
      });
      result.bytes += done.bytes;
      options.onProgress?.({ files: result.files, bytes: result.bytes, elapsedMs: Date.now() - started });
    });
    window.add(task);
  };

  const clearWay = (path: string, keepDir: boolean) => {
    if (!overwrite) return;
    let st;
    try {
      st = lstatSync(path);
    } catch {
      return;
    }
    if (keepDir && st.isDirectory()) return;
    rmSync(path, { recursive: true, force: true });
  };

  const restoreFile = async (path: string, snapshotPath: string, node: TreeNode) => {
    clearWay(path, false);
    if (node.links && node.inode && node.dev) {
      const key = `${node.dev}:${node.inode}`;
      const existing = hardLinks.get(key);
      if (existing) {
        pendingLinks.push({ path, existing, snapshotPath });
        return;
      }
      hardLinks.set(key, path);
    }
    const chunks = [];
    for (const id of node.content ?? []) {
      const loc = index.get(id);
      if (!loc) {
        result.errors.push(`${snapshotPath}: blob ${id} is missing from the repository`);
        return;
      }
      const pack = index.packs.get(loc.packId)!;
      chunks.push({ id, packId: loc.packId, offset: loc.offset, length: loc.length, rawLength: loc.rawLength, ephemeralPublic: pack.ephemeralPublic.toString('hex') });
    }
    batch.push({ path, size: node.size ?? 0, chunks, mode: node.mode, mtimeNs: node.mtime, uid: node.uid, gid: node.gid, chown });
    batchPaths.push(snapshotPath);
    batchBytes += node.size ?? 0;
    if (batch.length >= BATCH_FILES || batchBytes >= BATCH_BYTES) {
      await window.waitForRoom();
      dispatch();
    }
  };

  // Returns true when something at or below this directory was restored.
  const restoreTree = async (treeId: string, dir: string, snapshotDir: string, selected: boolean): Promise<boolean> => {
    let any = false;
    for (const node of (await repo.readTree(treeId)).nodes) {
      const path = join(dir, node.name);
      const snapshotPath = `${snapshotDir}/${node.name}`;
      const chosen = selected || match(snapshotPath, node.name);
      if (node.type === 'dir') {
        if (chosen || node.subtree) {
          clearWay(path, true);
          const existed = existsSync(path);
          if (!existed) mkdirSync(path, { mode: 0o700 });
          const inside = node.subtree ? await restoreTree(node.subtree, path, snapshotPath, chosen) : false;
          if (chosen || inside) {
            dirsToFinish.push({ path, node });
            result.dirs++;
            any = true;
          } else if (!existed) {
            rmSync(path, { recursive: true, force: true });
          }
        }
        continue;
      }
      if (!chosen) continue;
      any = true;
      try {
        if (node.type === 'symlink') {
          clearWay(path, false);
          symlinkSync(node.target ?? '', path);
          if (chown) lchownSync(path, node.uid, node.gid);
          const t = mtimeSeconds(node);
          lutimesSync(path, t, t);
          result.symlinks++;
        } else {
          await restoreFile(path, snapshotPath, node);
        }
      } catch (err) {
        result.errors.push(`${snapshotPath}: ${(err as Error).message}`);
      }
    }
    return any;
  };

  try {
    await restoreTree(snapshot.tree, target, '', match.all);
    dispatch();
    await window.drain();
    for (const link of pendingLinks) {
      try {
        linkSync(link.existing, link.path);
        result.files++;
      } catch (err) {
        result.errors.push(`${link.snapshotPath}: ${(err as Error).message}`);
      }
    }
    // Deepest first, so setting a directory's mtime comes after everything written inside it.
    for (const { path, node } of dirsToFinish) {
      if (chown) chownSync(path, node.uid, node.gid);
      chmodSync(path, node.mode);
      const t = mtimeSeconds(node);
      utimesSync(path, t, t);
    }
  } finally {
    await pool.close();
  }
  return result;
}

/**
 * Seconds for utimes, which libuv truncates to whole microseconds: aim half a microsecond past,
 * or float error puts about half of all times 1 µs early (a whole-millisecond mtime would come
 * back in the millisecond before).
 */
function mtimeSeconds(node: TreeNode): number {
  return (Number(BigInt(node.mtime) / 1000n) + 0.5) / 1e6;
}

function prepareTarget(target: string, overwrite: boolean): void {
  let st;
  try {
    st = lstatSync(target);
  } catch {
    mkdirSync(target, { recursive: true });
    return;
  }
  if (!st.isDirectory()) throw new UsageError(`restore target ${target} exists and is not a directory`);
  if (!overwrite && readdirSync(target).length > 0) {
    throw new UsageError(`restore target ${target} is not empty: restore into an empty directory, or add --overwrite to replace what is there`);
  }
}

type IncludeMatcher = ((snapshotPath: string, name: string) => boolean) & { all: boolean };

function compileIncludes(patterns: string[]): IncludeMatcher {
  if (patterns.length === 0) return Object.assign(() => true, { all: true });
  const byPath = patterns.filter((p) => p.includes('/')).map((p) => picomatch(p, { dot: true }));
  const byName = patterns.filter((p) => !p.includes('/')).map((p) => picomatch(p, { dot: true }));
  return Object.assign((path: string, name: string) => byPath.some((m) => m(path)) || byName.some((m) => m(name)), { all: false });
}
