import { existsSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, rmSync, symlinkSync, chmodSync, utimesSync, chownSync } from 'node:fs';
import { join, resolve } from 'node:path';
import picomatch from 'picomatch';
import { WriteOnlyKeyError } from '../crypto/envelope';
import { BlobType } from '../format/pack';
import type { Snapshot } from '../format/snapshot';
import { decodeTree } from '../format/tree';
import type { Tree, TreeNode } from '../format/tree';
import { UsageError } from '../errors';
import type { MasterIndex } from '../master-index';
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
  const trees = new TreeReadAhead(repo, index);
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
    for (const node of (await trees.get(treeId)).nodes) {
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

/** Tree reads in flight at once ahead of the walk. */
const TREE_READS = 4;
/** Trees read (or being read) ahead and not yet walked: bounds memory for very wide snapshots. */
const TREES_AHEAD = 1024;
/**
 * Tree blobs this close in one pack are read in one request, the data between included: a
 * request costs about what a megabyte of transfer does, so a backup's trees (written among
 * the files of their directories) arrive in a few reads instead of one per directory.
 */
const TREE_GAP = 1024 * 1024;
const TREE_SPAN = 4 * 1024 * 1024;
/** Sealed trees read along with wanted ones and kept until the walk asks for them. */
const SPARE_TREE_BYTES = 16 * 1024 * 1024;

interface WantedTree {
  /** Visits of the walk still to come. */
  uses: number;
  tree?: Promise<Tree>;
}

interface TreeBlob {
  id: string;
  packId: string;
  offset: number;
  length: number;
  rawLength: number;
  /** The tree blobs of its pack read together with it. */
  cluster: TreeBlob[];
}

/**
 * Reads a snapshot's trees ahead of the depth-first walk that restores them, so the walk does
 * not wait one storage round trip per directory (on S3, hundreds of sequential GETs). Every
 * tree read queues its subtrees, first child on top, so the read-ahead follows the walk's own
 * order. Tree blobs lying close together in a pack are read as one range (see TREE_GAP); the
 * ones not yet wanted are kept sealed, within SPARE_TREE_BYTES, for when the walk gets to
 * them. Every tree is verified against its id when opened, as repo.readTree does, and a failed
 * read fails the walk where it reaches that tree.
 */
class TreeReadAhead {
  private readonly wanted = new Map<string, WantedTree>();
  private readonly queue: string[] = [];
  /** Tree blob ids by pack, from the index; split into clusters when a pack is first read. */
  private readonly treesIn = new Map<string, string[]>();
  private readonly blobs = new Map<string, TreeBlob>();
  /** Clusters being read → their blobs wanted when the answer comes. */
  private readonly inFlight = new Map<TreeBlob[], { read: Promise<Buffer>; claimed: Set<string> }>();
  /** Sealed trees read along and not yet asked for, oldest first. */
  private readonly spare = new Map<string, Buffer>();
  private spareBytes = 0;
  private held = 0;

  constructor(
    private readonly repo: Repository,
    private readonly index: MasterIndex,
  ) {
    for (const [id, loc] of index.blobs) {
      if (loc.type !== BlobType.Tree) continue;
      const ids = this.treesIn.get(loc.packId);
      if (ids) ids.push(id);
      else this.treesIn.set(loc.packId, [id]);
    }
  }

  /** The tree blob `id` with its cluster, or undefined when the index has no tree of that id. */
  private blob(id: string): TreeBlob | undefined {
    const known = this.blobs.get(id);
    if (known) return known;
    const loc = this.index.get(id);
    const ids = loc && loc.type === BlobType.Tree ? this.treesIn.get(loc.packId) : undefined;
    if (!ids) return undefined;
    this.treesIn.delete(loc!.packId);
    const list = ids.map((treeId) => {
      const at = this.index.get(treeId)!;
      return { id: treeId, packId: at.packId, offset: at.offset, length: at.length, rawLength: at.rawLength, cluster: [] as TreeBlob[] };
    });
    list.sort((a, b) => a.offset - b.offset);
    let cluster: TreeBlob[] = [];
    for (const blob of list) {
      const first = cluster[0];
      const last = cluster[cluster.length - 1];
      if (first && (blob.offset - (last.offset + last.length) > TREE_GAP || blob.offset + blob.length - first.offset > TREE_SPAN)) cluster = [];
      cluster.push(blob);
      blob.cluster = cluster;
      this.blobs.set(blob.id, blob);
    }
    return this.blobs.get(id);
  }

  /** The tree `id`, from the read-ahead or read now. */
  get(id: string): Promise<Tree> {
    const entry = this.wanted.get(id);
    if (!entry) return this.fetch(id);
    if (!entry.tree) this.start(id, entry);
    const tree = entry.tree!;
    if (--entry.uses === 0) {
      this.wanted.delete(id);
      this.held--;
      this.pump();
    }
    return tree;
  }

  private start(id: string, entry: WantedTree): void {
    entry.tree = this.fetch(id);
    // Awaited when the walk gets there; not an unhandled rejection meanwhile.
    entry.tree.catch(() => undefined);
    this.held++;
  }

  /** Opens the tree from the spare ones, or from its cluster's read (started if need be). */
  private fetch(id: string): Promise<Tree> {
    const blob = this.blob(id);
    // Not in the index loaded for this restore: readTree looks again, or names what is missing.
    if (!blob) return this.opened(this.repo.readTree(id));
    const sealed = this.spare.get(id);
    if (sealed) {
      this.spare.delete(id);
      this.spareBytes -= sealed.length;
      return this.opened(Promise.resolve().then(() => this.open(blob, sealed)));
    }
    let reading = this.inFlight.get(blob.cluster);
    if (!reading) reading = this.readCluster(blob.cluster);
    reading.claimed.add(id);
    const start = blob.cluster[0].offset;
    return this.opened(reading.read.then((run) => this.open(blob, run.subarray(blob.offset - start, blob.offset - start + blob.length))));
  }

  private readCluster(cluster: TreeBlob[]): { read: Promise<Buffer>; claimed: Set<string> } {
    const first = cluster[0];
    const last = cluster[cluster.length - 1];
    const read = this.repo.storage.getRange(`data/${first.packId}`, first.offset, last.offset + last.length - first.offset);
    const reading = { read, claimed: new Set<string>() };
    this.inFlight.set(cluster, reading);
    read.then(
      (run) => {
        this.inFlight.delete(cluster);
        for (const blob of cluster) {
          if (reading.claimed.has(blob.id) || this.spare.has(blob.id)) continue;
          // A copy, so the whole run is not kept alive by one small tree.
          this.keepSpare(blob.id, Buffer.from(run.subarray(blob.offset - first.offset, blob.offset - first.offset + blob.length)));
        }
        this.pump();
      },
      () => {
        this.inFlight.delete(cluster);
        this.pump();
      },
    );
    return reading;
  }

  private keepSpare(id: string, sealed: Buffer): void {
    this.spare.set(id, sealed);
    this.spareBytes += sealed.length;
    for (const [old, bytes] of this.spare) {
      if (this.spareBytes <= SPARE_TREE_BYTES) break;
      this.spare.delete(old);
      this.spareBytes -= bytes.length;
    }
  }

  private open(blob: TreeBlob, sealed: Buffer): Tree {
    return decodeTree(this.repo.openBlob(blob.id, blob, sealed, this.index), `tree ${blob.id}`);
  }

  /** Queues the subtrees of each tree read. */
  private opened(tree: Promise<Tree>): Promise<Tree> {
    return tree.then((t) => {
      this.queueSubtrees(t);
      this.pump();
      return t;
    });
  }

  private queueSubtrees(tree: Tree): void {
    const subtrees = tree.nodes.filter((n) => n.type === 'dir' && n.subtree).map((n) => n.subtree!);
    for (const id of subtrees.reverse()) {
      const entry = this.wanted.get(id);
      if (entry) {
        entry.uses++;
        continue;
      }
      this.wanted.set(id, { uses: 1 });
      this.queue.push(id);
    }
  }

  private pump(): void {
    while (this.held < TREES_AHEAD && this.queue.length > 0) {
      const id = this.queue[this.queue.length - 1];
      const entry = this.wanted.get(id);
      if (!entry || entry.tree) {
        this.queue.pop();
        continue;
      }
      const blob = this.blob(id);
      // Starting it costs no new request when it is at hand or already on its way.
      const free = !blob || this.spare.has(id) || this.inFlight.has(blob.cluster);
      if (!free && this.inFlight.size >= TREE_READS) return;
      this.queue.pop();
      this.start(id, entry);
    }
  }
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
