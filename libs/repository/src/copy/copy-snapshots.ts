import { BackupSession } from '../backup/backup-session';
import { WriteOnlyKeyError } from '../crypto/envelope';
import { BlobType } from '../format/pack';
import type { Snapshot, SnapshotRef } from '../format/snapshot';
import type { TreeNode } from '../format/tree';
import type { Repository } from '../repository';

/** Options of copySnapshots. */
export interface CopyOptions {
  /** Which snapshots of the source to copy; every one by default. */
  filter?: (ref: SnapshotRef) => boolean;
  onProgress?: (progress: CopyProgress) => void;
}

/** Live figures of a copy. */
export interface CopyProgress {
  snapshotsDone: number;
  snapshotsTotal: number;
  /** Blobs read from the source and stored in the target (the target lacked them). */
  blobsCopied: number;
  bytesCopied: number;
}

/** What a copy did. */
export interface CopyResult extends CopyProgress {
  /** Source snapshot id → the new snapshot's id in the target. */
  copied: Array<{ source: string; target: string }>;
  /** Source snapshots the target already holds a copy of. */
  alreadyThere: string[];
}

/** Blobs read from the source at once: hides the latency of an object store. */
const READ_AHEAD = 8;

/**
 * Copies snapshots from one repository to another (another location, other keys) — the
 * offsite copy of a 3-2-1 scheme. Blob ids are keyed per repository, so every blob is
 * renamed on the way: chunks stay as they are, named with the target's key, and stored
 * only if the target lacks them. A snapshot the target already
 * holds a copy of (same `original`) is skipped, so running a copy again copies nothing; for
 * a new snapshot, the ids of its group's last copy are matched up tree by tree first, so
 * unchanged files are neither read from the source nor stored again.
 *
 * The target is written like a backup: a shared lock, deletion plans respected, each
 * snapshot written after all its data is durable.
 */
export async function copySnapshots(from: Repository, to: Repository, options: CopyOptions = {}): Promise<CopyResult> {
  if (!from.canRead || !to.canRead) throw new WriteOnlyKeyError();
  const all = await from.listSnapshots();
  const byId = new Map(all.map((ref) => [ref.id, ref]));
  const sources = all.filter(options.filter ?? (() => true));
  const inTarget = new Map<string, SnapshotRef>();
  for (const ref of await to.listSnapshots()) inTarget.set(originalOf(ref), ref);

  const result: CopyResult = { copied: [], alreadyThere: [], snapshotsDone: 0, snapshotsTotal: sources.length, blobsCopied: 0, bytesCopied: 0 };
  const todo = sources.filter((ref) => {
    if (!inTarget.has(originalOf(ref))) return true;
    result.alreadyThere.push(ref.id);
    result.snapshotsDone++;
    return false;
  });
  if (todo.length === 0) return result;

  const session = await BackupSession.start(to, { workers: 1 }, 'copy');
  try {
    const copier = new TreeCopier(from, session, () => options.onProgress?.(result), result);
    for (const ref of todo) {
      const previous = lastCopyOfGroup(ref.snapshot, all, inTarget);
      if (previous) await copier.matchTrees(previous.source, previous.target);
      const tree = await copier.copyTree(ref.snapshot.tree);
      const { parent: sourceParent, ...described } = ref.snapshot;
      const parentRef = sourceParent === undefined ? undefined : byId.get(sourceParent);
      const parent = sourceParent === undefined ? undefined : inTarget.get(parentRef ? originalOf(parentRef) : sourceParent)?.id;
      const { snapshotId, snapshot } = await session.commitSnapshot(() => ({ ...described, tree, original: originalOf(ref), ...(parent ? { parent } : {}) }));
      inTarget.set(originalOf(ref), { id: snapshotId, snapshot });
      result.copied.push({ source: ref.id, target: snapshotId });
      result.snapshotsDone++;
      options.onProgress?.(result);
    }
    return result;
  } finally {
    await session.close();
  }
}

/** The id a snapshot was first made under, whichever repository it sits in now. */
function originalOf(ref: SnapshotRef): string {
  return ref.snapshot.original ?? ref.id;
}

/** The root trees of the latest snapshot of the same host, kind and paths already copied, and of its copy. */
function lastCopyOfGroup(snapshot: Snapshot, all: SnapshotRef[], inTarget: Map<string, SnapshotRef>): { source: string; target: string } | undefined {
  const group = (s: Snapshot) => JSON.stringify([s.host, s.sourceKind, [...s.paths].sort()]);
  for (let i = all.length - 1; i >= 0; i--) {
    const candidate = all[i];
    const copy = inTarget.get(originalOf(candidate));
    if (copy && candidate.snapshot.time <= snapshot.time && group(candidate.snapshot) === group(snapshot)) return { source: candidate.snapshot.tree, target: copy.snapshot.tree };
  }
  return undefined;
}

/** Copies trees and their data, remembering which source blob is which target blob. */
class TreeCopier {
  /** Source blob id → target blob id. */
  private readonly ids = new Map<string, string>();

  constructor(
    private readonly from: Repository,
    private readonly session: BackupSession,
    private readonly progress: () => void,
    private readonly figures: CopyProgress,
  ) {}

  /**
   * Learns the id pairs of a snapshot and its earlier copy by walking both trees side by
   * side: a copy has the same names in the same order and the same chunks per file.
   * Only trees are read, no file data.
   */
  async matchTrees(sourceTree: string, targetTree: string): Promise<void> {
    if (this.ids.has(sourceTree)) return;
    this.ids.set(sourceTree, targetTree);
    const [source, target] = await Promise.all([this.from.readTree(sourceTree), this.session.repo.readTree(targetTree)]);
    const targets = new Map(target.nodes.map((n) => [n.name, n]));
    for (const node of source.nodes) {
      const copy = targets.get(node.name);
      if (!copy) continue;
      if (node.content && copy.content && node.content.length === copy.content.length) node.content.forEach((id, i) => this.ids.set(id, copy.content![i]));
      if (node.subtree && copy.subtree) await this.matchTrees(node.subtree, copy.subtree);
    }
  }

  /** Stores the tree (and everything under it) in the target; returns its id there. */
  async copyTree(sourceTree: string): Promise<string> {
    const known = this.ids.get(sourceTree);
    if (known !== undefined && this.session.knows(known)) return known;
    const tree = await this.from.readTree(sourceTree);
    await this.copyData(tree.nodes.flatMap((n) => n.content ?? []));
    const nodes: TreeNode[] = [];
    for (const node of tree.nodes) {
      nodes.push({
        ...node,
        ...(node.content ? { content: node.content.map((id) => this.ids.get(id)!) } : {}),
        ...(node.subtree ? { subtree: await this.copyTree(node.subtree) } : {}),
      });
    }
    const id = await this.session.storeTree(nodes);
    this.ids.set(sourceTree, id);
    return id;
  }

  /** Stores the data blobs the target lacks, reading up to READ_AHEAD at once from the source. */
  private async copyData(sourceIds: string[]): Promise<void> {
    const missing = [...new Set(sourceIds)].filter((id) => {
      const known = this.ids.get(id);
      return known === undefined || !this.session.knows(known);
    });
    let next = 0;
    const worker = async () => {
      while (next < missing.length) {
        const id = missing[next++];
        const data = await this.from.readBlob(id);
        // storeBlob claims the blob (counting it as new) before its first await, so the
        // count read right after the call is this blob's alone.
        const newBefore = this.session.stats.bytesNew;
        const stored = this.session.storeBlob(BlobType.Data, data);
        if (this.session.stats.bytesNew > newBefore) {
          this.figures.blobsCopied++;
          this.figures.bytesCopied += data.length;
        }
        this.ids.set(id, await stored);
        this.progress();
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_AHEAD, missing.length) }, worker));
  }
}
