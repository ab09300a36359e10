import { newSealingSession } from '../crypto/envelope';
import { BlobSealer } from '../format/blob-codec';
import type { IndexedPack } from '../format/index-file';
import { PACK_INFO } from '../format/pack-info';
import { acquireLock } from '../locks';
import { MasterIndex } from '../master-index';
import type { Repository } from '../repository';
import { PackWriter } from '../backup/pack-writer';
import { WriteOnlyKeyError } from '../crypto/envelope';

/** Options of prune. */
export interface PruneOptions {
  dryRun?: boolean;
  /** A pack with at least this share of unused bytes is rewritten; 0.2 by default. */
  repackThreshold?: number;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** What prune did (or would do, in a dry run). */
export interface PruneResult {
  packsDeleted: number;
  packsRewritten: number;
  blobsRemoved: number;
  bytesFreed: number;
  indexesRewritten: number;
}

/**
 * Deletes data no snapshot references. Holds the exclusive lock, so no backup runs meanwhile.
 * Order keeps the repository whole at every step: rewritten packs are stored, then a new
 * index of everything kept, then the old indexes go, and only then the old packs.
 */
export async function pruneRepository(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  if (!repo.canRead) throw new WriteOnlyKeyError();
  const lock = await acquireLock(repo, 'prune', true);
  try {
    // The index objects are read once: prune needs them whole again to write their successor.
    const indexFiles = await repo.readIndexFiles();
    const index = new MasterIndex();
    for (const [name, file] of indexFiles) index.addIndexFile(name, file);
    repo.useIndex(index);
    const used = await usedBlobs(repo, options);
    const stored = new Map<string, number>();
    for await (const obj of repo.storage.list('data')) stored.set(obj.name.slice('data/'.length), obj.size);

    const plan = planPacks(index, used, stored, options.repackThreshold ?? 0.2);
    const nothingToDo = plan.remove.length === 0 && plan.rewrite.length === 0;
    const result: PruneResult = {
      packsDeleted: plan.remove.length,
      packsRewritten: plan.rewrite.length,
      blobsRemoved: plan.blobsRemoved,
      bytesFreed: [...plan.remove, ...plan.rewrite].reduce((sum, id) => sum + (stored.get(id) ?? 0), 0),
      indexesRewritten: nothingToDo ? 0 : index.indexIds.length,
    };
    if (options.dryRun || nothingToDo) return result;

    if (plan.rewrite.length > 0) {
      const session = newSealingSession(repo.master.readPublicKey, PACK_INFO);
      const sealer = new BlobSealer(session.key, repo.config.compression.level);
      const writer = new PackWriter(repo, session.key, session.ephemeralPublic);
      const survivors = new Map<string, string[]>(plan.rewrite.map((packId) => [packId, []]));
      for (const [id, loc] of index.blobs) if (used.has(id)) survivors.get(loc.packId)?.push(id);
      let done = 0;
      for (const [, ids] of survivors) {
        for (const id of ids) {
          const loc = index.get(id)!;
          const data = await repo.readBlob(id);
          await writer.waitForRoom();
          writer.add(loc.type, Buffer.from(id, 'hex'), sealer.seal(Buffer.from(id, 'hex'), data), data.length);
        }
        options.onProgress?.({ phase: 'rewriting packs', done: ++done, total: plan.rewrite.length });
      }
      await writer.flush(); // writes index objects for the new packs
      result.bytesFreed -= writer.bytesStored;
    }

    const gone = new Set([...plan.remove, ...plan.rewrite]);
    const kept = new Map<string, IndexedPack>();
    for (const file of indexFiles.values()) {
      for (const pack of file.packs) {
        const id = pack.id.toString('hex');
        if (!gone.has(id) && !kept.has(id)) kept.set(id, pack);
      }
    }
    await repo.writeIndexFile({ packs: [...kept.values()], supersedes: index.indexIds.map((id) => Buffer.from(id, 'hex')) });
    for (const name of index.indexIds) await repo.storage.delete(`index/${name}`);
    let deleted = 0;
    for (const id of gone) {
      await repo.storage.delete(`data/${id}`);
      options.onProgress?.({ phase: 'deleting packs', done: ++deleted, total: gone.size });
    }
    await repo.loadIndex(true);
    return result;
  } finally {
    await lock.release();
  }
}

/** Every blob any snapshot references. Fails if any snapshot or tree cannot be read. */
async function usedBlobs(repo: Repository, options: PruneOptions): Promise<Set<string>> {
  const used = new Set<string>();
  const ids = await repo.listSnapshotIds();
  let done = 0;
  for (const id of ids) {
    // An unreadable snapshot must stop prune: what it references is unknown and would be lost.
    const snapshot = await repo.readSnapshot(id);
    await markTree(repo, snapshot.tree, used);
    options.onProgress?.({ phase: 'finding used data', done: ++done, total: ids.length });
  }
  return used;
}

async function markTree(repo: Repository, treeId: string, used: Set<string>): Promise<void> {
  if (used.has(treeId)) return;
  used.add(treeId);
  for (const node of (await repo.readTree(treeId)).nodes) {
    for (const id of node.content ?? []) used.add(id);
    if (node.subtree) await markTree(repo, node.subtree, used);
  }
}

function planPacks(index: MasterIndex, used: Set<string>, stored: Map<string, number>, threshold: number) {
  const usedBytes = new Map<string, number>();
  const totalBytes = new Map<string, number>();
  let blobsRemoved = 0;
  for (const [id, loc] of index.blobs) {
    totalBytes.set(loc.packId, (totalBytes.get(loc.packId) ?? 0) + loc.length);
    if (used.has(id)) usedBytes.set(loc.packId, (usedBytes.get(loc.packId) ?? 0) + loc.length);
    else blobsRemoved++;
  }
  const remove: string[] = [];
  const rewrite: string[] = [];
  for (const packId of stored.keys()) {
    const u = usedBytes.get(packId) ?? 0;
    if (!index.packs.has(packId) || u === 0) remove.push(packId);
    else if (1 - u / (totalBytes.get(packId) ?? u) >= threshold) rewrite.push(packId);
  }
  return { remove, rewrite, blobsRemoved };
}
