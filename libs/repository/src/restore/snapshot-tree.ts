import { Readable } from 'node:stream';
import type { Snapshot } from '../format/snapshot';
import type { TreeNode } from '../format/tree';
import { SnapshotNotFoundError } from '../errors';
import type { Repository } from '../repository';

/** A node and its path inside the snapshot ("/srv/app/x"). */
export interface SnapshotEntry {
  path: string;
  node: TreeNode;
}

/** Splits a snapshot path into safe components ("/a/b/" → ["a","b"]). */
export function splitSnapshotPath(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/** The node at `path` ("/" → a virtual root directory). */
export async function findNode(repo: Repository, snapshot: Snapshot, path: string): Promise<TreeNode> {
  let node: TreeNode = { name: '', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: '0', subtree: snapshot.tree };
  for (const part of splitSnapshotPath(path)) {
    if (node.type !== 'dir' || !node.subtree) throw new SnapshotNotFoundError(`${path}: not in the snapshot`);
    const next = (await repo.readTree(node.subtree)).nodes.find((n) => n.name === part);
    if (!next) throw new SnapshotNotFoundError(`${path}: not in the snapshot`);
    node = next;
  }
  return node;
}

/** Walks a snapshot depth first, pre-order, from `path` (default: everything). */
export async function* listSnapshot(repo: Repository, snapshot: Snapshot, path = '/'): AsyncGenerator<SnapshotEntry> {
  const start = await findNode(repo, snapshot, path);
  const base = '/' + splitSnapshotPath(path).join('/');
  if (base !== '/') yield { path: base, node: start };
  if (start.type === 'dir' && start.subtree) yield* walk(repo, start.subtree, base === '/' ? '' : base);
}

async function* walk(repo: Repository, treeId: string, prefix: string): AsyncGenerator<SnapshotEntry> {
  for (const node of (await repo.readTree(treeId)).nodes) {
    const path = `${prefix}/${node.name}`;
    yield { path, node };
    if (node.type === 'dir' && node.subtree) yield* walk(repo, node.subtree, path);
  }
}

/** Writes one file of a snapshot to `out`, verifying every blob on the way. */
export async function dumpFile(repo: Repository, snapshot: Snapshot, path: string, out: NodeJS.WritableStream): Promise<number> {
  const node = await findNode(repo, snapshot, path);
  if (node.type !== 'file') throw new SnapshotNotFoundError(`${path}: is a ${node.type === 'dir' ? 'directory' : 'symlink'}, not a file`);
  let bytes = 0;
  for (const id of node.content ?? []) {
    const data = await repo.readBlob(id);
    bytes += data.length;
    if (!out.write(data)) await new Promise((resolve) => out.once('drain', resolve));
  }
  return bytes;
}

/** How many chunks openSnapshotFile reads ahead of its consumer: storage latency overlaps decryption. */
const READ_AHEAD = 4;

/**
 * A file of a snapshot as a stream (a dump handed to pg_restore). Fails, rather than ends,
 * when a chunk is missing or damaged, so a consumer never takes a truncated file for whole.
 */
export function openSnapshotFile(repo: Repository, snapshot: Snapshot, path: string): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const node = await findNode(repo, snapshot, path);
    if (node.type !== 'file') throw new SnapshotNotFoundError(`${path}: is a ${node.type === 'dir' ? 'directory' : 'symlink'}, not a file`);
    const ids = node.content ?? [];
    const pending: Promise<Buffer>[] = [];
    for (let next = 0; next < ids.length || pending.length > 0; ) {
      while (next < ids.length && pending.length < READ_AHEAD) {
        const reading = repo.readBlob(ids[next++]);
        reading.catch(() => undefined); // awaited in turn below; not an unhandled rejection meanwhile
        pending.push(reading);
      }
      yield await pending.shift()!;
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** Opens files at the root of a snapshot by name: how database restores and verification read a dump. */
export function snapshotFileOpener(repo: Repository, snapshot: Snapshot): (name: string) => Readable {
  return (name) => openSnapshotFile(repo, snapshot, `/${name}`);
}

/** One difference between two snapshots: added, removed, modified content, or changed type. */
export interface SnapshotDifference {
  change: '+' | '-' | 'M' | 'T';
  path: string;
}

/** Differences from `a` to `b`, skipping subtrees whose ids are equal. */
export async function* diffSnapshots(repo: Repository, a: Snapshot, b: Snapshot): AsyncGenerator<SnapshotDifference> {
  yield* diffTrees(repo, a.tree, b.tree, '');
}

async function* diffTrees(repo: Repository, aId: string | undefined, bId: string | undefined, prefix: string): AsyncGenerator<SnapshotDifference> {
  if (aId === bId) return;
  const a = new Map((aId ? (await repo.readTree(aId)).nodes : []).map((n) => [n.name, n]));
  const b = new Map((bId ? (await repo.readTree(bId)).nodes : []).map((n) => [n.name, n]));
  const names = [...new Set([...a.keys(), ...b.keys()])].sort();
  for (const name of names) {
    const path = `${prefix}/${name}`;
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y) {
      yield { change: x ? '-' : '+', path };
      const only = (x ?? y)!;
      if (only.type === 'dir') {
        for await (const d of diffTrees(repo, x?.subtree, y?.subtree, path)) yield d;
      }
    } else if (x.type !== y.type) {
      yield { change: 'T', path };
    } else if (x.type === 'dir') {
      yield* diffTrees(repo, x.subtree, y.subtree, path);
    } else if (x.type === 'symlink' ? x.target !== y.target : (x.content ?? []).join() !== (y.content ?? []).join()) {
      yield { change: 'M', path };
    }
  }
}
