import { lstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, sep } from 'node:path';
import type { FsEntry, WalkEvent } from '@coffer/contracts';
import type { TreeNode } from '../format/tree';
import type { Repository } from '../repository';
import type { BackupFileJob, BackupFileResult } from '../worker/protocol';
import { UsageError } from '../errors';
import { BackupOptions, BackupResult, BackupSession } from './backup-session';
import { CachedParent, WriterCache } from './writer-cache';
import type { TaskWindow } from '../worker/task-window';

/** Options of a files backup. */
export interface FilesBackupOptions extends BackupOptions {
  /** The root paths, as the snapshot records them. */
  paths: string[];
  /** Snapshot id to compare against, `false` for none; by default the latest of the same host and paths. */
  parent?: string | false;
  /**
   * Where a write-only key keeps its last snapshot's listings, so that its next backup skips
   * unchanged files (see WriterCache); WriterCache.defaultDir() by default.
   */
  cacheDir?: string;
}

/** Small files are batched into one worker task up to these limits. */
const BATCH_FILES = 128;
const BATCH_BYTES = 8 * 1024 * 1024;

interface DirFrame {
  entry: FsEntry;
  /** The same directory in the parent snapshot, by name. */
  previous?: Map<string, TreeNode>;
  children: Array<Promise<TreeNode | undefined> | TreeNode>;
}

/**
 * Backs up what the files source walks. Unchanged files (same size, mtime and inode as in
 * the parent snapshot, with all their blobs present) are not read again.
 */
export async function backupFiles(repo: Repository, walk: AsyncIterable<WalkEvent>, options: FilesBackupOptions): Promise<BackupResult> {
  const session = await BackupSession.start(repo, options);
  try {
    const host = options.host ?? hostname();
    const writerCache = repo.canRead ? undefined : new WriterCache(options.cacheDir ?? WriterCache.defaultDir(), repo.config.id);
    const cached = writerCache?.read(host, options.paths);
    const parent = writerCache ? cachedParent(options, cached) : await findParent(repo, options, (message) => session.warn(message));
    if (writerCache) session.treeLog = {};
    const batcher = new FileBatcher(session);
    const roots = new Map<string, Promise<TreeNode | undefined>>();
    const previousTrees = new TreeCache(repo, cached?.trees);
    const stack: DirFrame[] = [];
    let currentRoot = '';

    const place = (node: Promise<TreeNode | undefined> | TreeNode) => {
      if (stack.length > 0) stack[stack.length - 1].children.push(node);
      else roots.set(currentRoot, Promise.resolve(node));
    };
    const previousOf = async (entry: FsEntry): Promise<TreeNode | undefined> =>
      stack.length > 0 ? stack[stack.length - 1].previous?.get(entry.name) : parent ? previousTrees.lookup(parent.tree, entry.absPath) : undefined;

    for await (const event of walk) {
      switch (event.kind) {
        case 'root':
          currentRoot = event.absPath;
          break;
        case 'warning':
          if (event.skipped === 'special') session.options.onNote?.(`${event.path}: ${event.message}`);
          else session.warn(`${event.path}: ${event.message}`);
          break;
        case 'dir-enter': {
          const before = await previousOf(event.entry);
          const previous = before?.type === 'dir' && before.subtree ? await previousTrees.children(before.subtree) : undefined;
          stack.push({ entry: event.entry, previous, children: [] });
          break;
        }
        case 'dir-leave': {
          const frame = stack.pop()!;
          session.stats.dirs++;
          place(
            Promise.all(frame.children).then(async (nodes) => ({
              ...nodeOf(frame.entry),
              subtree: await session.storeTree(nodes.filter((n): n is TreeNode => n !== undefined)),
            })),
          );
          break;
        }
        case 'entry': {
          const entry = event.entry;
          if (entry.type === 'symlink') {
            place({ ...nodeOf(entry), target: entry.linkTarget });
            break;
          }
          const before = await previousOf(entry);
          if (before && unchanged(before, entry) && before.content!.every((id) => session.knows(id))) {
            session.stats.files++;
            session.stats.totalBytes += entry.size;
            session.bytesDone += entry.size;
            place({ ...nodeOf(entry), content: before.content });
            session.reportProgress();
          } else {
            place((await batcher.add(entry)).node);
          }
          break;
        }
      }
    }
    batcher.dispatch();

    const tree = await storeRootTree(session, roots);
    const result = await session.commit({ sourceKind: 'files', paths: options.paths, parent: parent?.id, tree });
    writerCache?.write(host, options.paths, { snapshotId: result.snapshotId, tree, trees: session.treeLog! });
    return result;
  } finally {
    await session.close();
  }
}

/** A write-only key's parent: the one this host's cache holds (it cannot read any other). */
function cachedParent(options: FilesBackupOptions, cached: CachedParent | undefined): { id: string; tree: string } | undefined {
  if (options.parent === false) return undefined;
  if (options.parent && options.parent !== cached?.snapshotId) {
    throw new UsageError(`a write-only key cannot read snapshot ${options.parent}: leave out the parent, and the last snapshot this host made is used`);
  }
  return cached && { id: cached.snapshotId, tree: cached.tree };
}

async function findParent(repo: Repository, options: FilesBackupOptions, warn: (message: string) => void): Promise<{ id: string; tree: string } | undefined> {
  if (options.parent === false) return undefined;
  if (options.parent) {
    const ref = await repo.findSnapshot(options.parent);
    return { id: ref.id, tree: ref.snapshot.tree };
  }
  // The same host the new snapshot will record: another host's files share no inodes with ours.
  const host = options.host ?? hostname();
  const paths = JSON.stringify([...options.paths].sort());
  // A damaged snapshot cannot be a parent, and must not stop every backup from now on.
  const all = await repo.listSnapshots((id, err) => warn(`${err.message}: not used as a parent (run check)`));
  for (let i = all.length - 1; i >= 0; i--) {
    const s = all[i].snapshot;
    if (s.sourceKind === 'files' && s.host === host && JSON.stringify([...s.paths].sort()) === paths) {
      return { id: all[i].id, tree: s.tree };
    }
  }
  return undefined;
}

function unchanged(before: TreeNode, entry: FsEntry): boolean {
  return before.type === 'file' && before.size === entry.size && before.mtime === entry.mtimeNs.toString() && before.inode === entry.ino.toString() && Array.isArray(before.content);
}

/** The metadata part of a node. */
function nodeOf(entry: FsEntry): TreeNode {
  return {
    name: entry.name,
    type: entry.type,
    mode: entry.mode,
    uid: entry.uid,
    gid: entry.gid,
    mtime: entry.mtimeNs.toString(),
    ...(entry.type === 'file' ? { size: entry.size } : {}),
    inode: entry.ino.toString(),
    dev: entry.dev.toString(),
    ...(entry.nlink > 1 && entry.type === 'file' ? { links: entry.nlink } : {}),
  };
}

/**
 * Groups files into worker tasks: many small files per task so messages stay few, a large
 * file alone. Keeps at most two tasks per worker in flight, which bounds memory.
 */
class FileBatcher {
  private files: BackupFileJob[] = [];
  private bytes = 0;
  private waiters: Array<{ resolve: (r: BackupFileResult) => void; reject: (e: Error) => void }> = [];
  private readonly window: TaskWindow;

  constructor(private readonly session: BackupSession) {
    this.window = session.pool.taskWindow();
  }

  /**
   * Queues a file; resolves once there is room, to a holder of the promise of its node (a
   * bare promise would be flattened by `await`, which would wait for the file itself).
   */
  async add(entry: FsEntry): Promise<{ node: Promise<TreeNode | undefined> }> {
    const result = new Promise<BackupFileResult>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.files.push({ path: entry.absPath, size: entry.size });
    this.bytes += entry.size;
    if (this.files.length >= BATCH_FILES || this.bytes >= BATCH_BYTES) {
      await this.window.waitForRoom();
      this.dispatch();
    }
    const node = result.then((r) => {
      const s = this.session;
      s.bytesDone += entry.size;
      if (r.error) {
        s.warn(`${entry.absPath}: ${r.error}`);
        return undefined;
      }
      s.stats.files++;
      s.stats.totalBytes += r.size;
      s.stats.bytesRead += r.size;
      return { ...nodeOf(entry), size: r.size, content: r.content };
    });
    // The node is awaited only when its directory is closed; a worker failure before then
    // must not count as an unhandled rejection. It still fails the backup through that await.
    node.catch(() => undefined);
    return { node };
  }

  /** Sends what is queued to a worker. */
  dispatch(): void {
    if (this.files.length === 0) return;
    const waiters = this.waiters;
    const task: Promise<void> = this.session.pool.run<'backup-done'>({ type: 'backup', files: this.files }).then(
      (done) => {
        done.files.forEach((r, i) => waiters[i].resolve(r));
        this.session.reportProgress();
      },
      (err: Error) => waiters.forEach((w) => w.reject(err)),
    );
    this.files = [];
    this.waiters = [];
    this.bytes = 0;
    this.window.add(task);
  }
}

/** Parent snapshot trees, loaded on demand and kept by id. */
class TreeCache {
  private readonly trees = new Map<string, Promise<Map<string, TreeNode>>>();

  /** `known`: listings from a write-only key's cache, which cannot read them from the repository. */
  constructor(
    private readonly repo: Repository,
    private readonly known?: Record<string, TreeNode[]>,
  ) {}

  children(id: string): Promise<Map<string, TreeNode>> {
    let tree = this.trees.get(id);
    if (!tree) {
      const nodes = this.known ? Promise.resolve(this.known[id] ?? []) : this.repo.readTree(id).then((t) => t.nodes);
      tree = nodes.then((list) => new Map(list.map((n) => [n.name, n])));
      this.trees.set(id, tree);
    }
    return tree;
  }

  /** The node at an absolute path in a snapshot, if there is one. */
  async lookup(rootTree: string, absPath: string): Promise<TreeNode | undefined> {
    let tree = rootTree;
    const parts = absPath.split(sep).filter(Boolean);
    for (let i = 0; i < parts.length; i++) {
      const node = (await this.children(tree)).get(parts[i]);
      if (!node || i === parts.length - 1) return node;
      if (node.type !== 'dir' || !node.subtree) return undefined;
      tree = node.subtree;
    }
    return undefined;
  }
}

/**
 * The root tree: the directories above the roots (/srv for /srv/app) with their own
 * metadata, so a snapshot restores to TARGET/srv/app as the host had it.
 */
async function storeRootTree(session: BackupSession, roots: Map<string, Promise<TreeNode | undefined>>): Promise<string> {
  interface Dir {
    path: string;
    children: Map<string, Dir | Promise<TreeNode | undefined>>;
  }
  const top: Dir = { path: sep, children: new Map() };
  for (const [absPath, node] of roots) {
    const parts = absPath.split(sep).filter(Boolean);
    if (parts.length === 0) {
      // Backing up "/" itself: its listing is the root tree.
      const root = await node;
      return root?.subtree ?? session.storeTree([]);
    }
    let dir = top;
    for (const part of parts.slice(0, -1)) {
      let next = dir.children.get(part);
      if (!next || next instanceof Promise) {
        next = { path: join(dir.path, part), children: new Map() };
        dir.children.set(part, next);
      }
      dir = next;
    }
    dir.children.set(parts[parts.length - 1], node);
  }

  const store = async (dir: Dir): Promise<string> => {
    const nodes: TreeNode[] = [];
    for (const [name, child] of dir.children) {
      if (child instanceof Promise) {
        const node = await child;
        if (node) nodes.push(node);
        continue;
      }
      const st = lstatSync(child.path, { bigint: true });
      nodes.push({
        name,
        type: 'dir',
        mode: Number(st.mode & 0o7777n),
        uid: Number(st.uid),
        gid: Number(st.gid),
        mtime: st.mtimeNs.toString(),
        subtree: await store(child),
      });
    }
    return session.storeTree(nodes);
  };
  return store(top);
}
