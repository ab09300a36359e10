import { randomInt } from 'node:crypto';
import { WriteOnlyKeyError } from '../crypto/envelope';
import { parseKeyFile, readKeyMetadata } from '../format/key-file';
import { MasterIndex } from '../master-index';
import type { Repository } from '../repository';
import type { CheckPackJob } from '../worker/protocol';
import { WorkerPool } from '../worker/worker-pool';

/** Options of a check. */
export interface CheckOptions {
  /** Share of packs (0–100) to download, decrypt and re-hash; 0 checks structure only. */
  readDataPercent?: number;
  onProgress?: (progress: { packsRead: number; packsToRead: number; bytesRead: number }) => void;
  workers?: number;
}

/** What a check found. `errors` is empty for a healthy repository. */
export interface CheckResult {
  errors: string[];
  /** Harmless findings, e.g. packs left by an interrupted backup. */
  notes: string[];
  snapshots: number;
  trees: number;
  packs: number;
  packsRead: number;
  bytesRead: number;
}

/**
 * Checks that every key, index and snapshot decrypts and matches its name, that every
 * snapshot's trees and blobs resolve to stored packs, and (with readDataPercent) that stored
 * blobs decrypt, decompress and hash back to their ids. Every problem names its object.
 */
export async function checkRepository(repo: Repository, options: CheckOptions = {}): Promise<CheckResult> {
  if (!repo.canRead) throw new WriteOnlyKeyError();
  const errors: string[] = [];
  const notes: string[] = [];

  for await (const key of repo.storage.list('keys')) {
    try {
      readKeyMetadata(parseKeyFile(await repo.storage.get(key.name), key.name), repo.master.metaKey, key.name);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }

  const index = new MasterIndex();
  for await (const obj of repo.storage.list('index')) {
    const name = obj.name.slice('index/'.length);
    try {
      index.addIndexFile(name, await repo.readIndexFile(name));
    } catch (err) {
      errors.push((err as Error).message);
    }
  }

  const stored = new Map<string, number>();
  for await (const obj of repo.storage.list('data')) stored.set(obj.name.slice('data/'.length), obj.size);
  for (const [packId, info] of index.packs) {
    const size = stored.get(packId);
    if (size === undefined) errors.push(`pack ${packId} is in the index but missing from storage`);
    else if (size !== info.size) errors.push(`pack ${packId} is ${size} bytes in storage but ${info.size} in the index (truncated or damaged)`);
  }
  const orphans = [...stored.keys()].filter((id) => !index.packs.has(id));
  if (orphans.length > 0) notes.push(`${orphans.length} pack(s) are in no index (left by an interrupted backup; prune removes them)`);

  // Trees are read through the repository, which needs the index we just verified (reloading
  // would throw on the damaged index objects reported above instead of checking the rest).
  repo.useIndex(index);
  // Packs are verified in the workers while this thread walks the trees.
  const dataCheck = readData(repo, index, stored, options, errors);
  dataCheck.catch(() => undefined); // awaited below; a failure must not count as unhandled meanwhile
  const seenTrees = new Set<string>();
  let snapshots = 0;
  for (const id of await repo.listSnapshotIds()) {
    let tree: string;
    try {
      tree = (await repo.readSnapshot(id)).tree;
      snapshots++;
    } catch (err) {
      errors.push(`snapshot ${id}: ${(err as Error).message}`);
      continue;
    }
    await checkTree(repo, index, tree, `snapshot ${id.slice(0, 8)}`, '', seenTrees, errors);
  }

  const { packsRead, bytesRead } = await dataCheck;
  return { errors, notes, snapshots, trees: seenTrees.size, packs: index.packs.size, packsRead, bytesRead };
}

/** Downloads the chosen share of packs and verifies every blob in them, in the workers. */
async function readData(repo: Repository, index: MasterIndex, stored: Map<string, number>, options: CheckOptions, errors: string[]): Promise<{ packsRead: number; bytesRead: number }> {
  let packsRead = 0;
  let bytesRead = 0;
  const percent = options.readDataPercent ?? 0;
  if (percent > 0) {
    const candidates = [...index.packs.keys()].filter((id) => stored.has(id));
    const chosen = percent >= 100 ? candidates : sample(candidates, Math.ceil((candidates.length * percent) / 100));
    const jobs = packJobs(index, new Set(chosen));
    const pool = new WorkerPool(
      repo.workerSetup('reader'),
      {},
      options.workers,
    );
    try {
      const window = pool.taskWindow();
      for (const pack of jobs) {
        await window.waitForRoom();
        const task: Promise<void> = pool.run<'check-done'>({ type: 'check-pack', pack }).then((done) => {
          errors.push(...done.errors);
          packsRead++;
          bytesRead += done.bytes;
          options.onProgress?.({ packsRead, packsToRead: jobs.length, bytesRead });
        });
        window.add(task);
      }
      await window.drain();
    } finally {
      await pool.close();
    }
  }
  return { packsRead, bytesRead };
}

async function checkTree(repo: Repository, index: MasterIndex, treeId: string, snapshot: string, path: string, seen: Set<string>, errors: string[]): Promise<void> {
  if (seen.has(treeId)) return;
  seen.add(treeId);
  let nodes;
  try {
    nodes = (await repo.readTree(treeId)).nodes;
  } catch (err) {
    errors.push(`${snapshot}: directory ${path || '/'}: ${(err as Error).message}`);
    return;
  }
  for (const node of nodes) {
    const nodePath = `${path}/${node.name}`;
    if (node.type === 'dir') {
      if (!node.subtree) errors.push(`${snapshot}: ${nodePath}: directory without a listing`);
      else await checkTree(repo, index, node.subtree, snapshot, nodePath, seen, errors);
    } else if (node.type === 'file') {
      const missing = (node.content ?? []).filter((id) => !index.has(id));
      if (missing.length > 0) errors.push(`${snapshot}: ${nodePath}: ${missing.length} blob(s) missing, e.g. ${missing[0]}`);
    }
  }
}

/** Groups the index by pack, for the packs chosen. */
function packJobs(index: MasterIndex, chosen: Set<string>): CheckPackJob[] {
  const jobs = new Map<string, CheckPackJob>();
  for (const [id, loc] of index.blobs) {
    if (!chosen.has(loc.packId)) continue;
    let job = jobs.get(loc.packId);
    if (!job) jobs.set(loc.packId, (job = { packId: loc.packId, expected: [] }));
    job.expected.push([id, loc.type, loc.offset, loc.length, loc.rawLength]);
  }
  // A pack whose every blob is also stored elsewhere has no entry above but is still checked.
  for (const packId of chosen) if (!jobs.has(packId)) jobs.set(packId, { packId, expected: [] });
  return [...jobs.values()];
}

function sample<T>(items: T[], n: number): T[] {
  const copy = [...items];
  for (let i = 0; i < Math.min(n, copy.length); i++) {
    const j = i + randomInt(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, n);
}

