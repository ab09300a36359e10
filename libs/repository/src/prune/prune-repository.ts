import { newSealingSession, WriteOnlyKeyError } from '../crypto/envelope';
import { RepositoryError } from '../errors';
import { BlobSealer } from '../format/blob-codec';
import type { IndexFile, IndexedPack } from '../format/index-file';
import type { BlobType } from '../format/pack';
import { PACK_INFO } from '../format/pack-info';
import { acquireLock, LiveLock, readLiveLocks } from '../locks';
import { MasterIndex } from '../master-index';
import type { Repository } from '../repository';
import { PackWriter } from '../backup/pack-writer';
import { DeletionPlan, doomedPacks, readDeletionPlans, saveDeletionPlan, writeDeletionPlan } from './deletion-plans';

/** Options of prune. */
export interface PruneOptions {
  dryRun?: boolean;
  /** A pack with at least this share of unused bytes is rewritten; 0.2 by default. */
  repackThreshold?: number;
  /** How long the plan of a deletion done stays as a tombstone at least; 15 minutes by default. */
  tombstoneMs?: number;
  onProgress?: (progress: { phase: string; done: number; total: number }) => void;
}

/** What prune did (or would do, in a dry run). */
export interface PruneResult {
  /** Packs deleted by this run (in a dry run: that it would mark for deletion). */
  packsDeleted: number;
  packsRewritten: number;
  blobsRemoved: number;
  bytesFreed: number;
  indexesRewritten: number;
  /** Packs marked for deletion that wait for the operations below to end; the next prune deletes them. */
  packsPending: number;
  bytesPending: number;
  /** The running operations the pending packs wait for, e.g. `backup (pid 42 on web-1, since …)`. */
  waitingFor: string[];
}

/**
 * Deletes data no snapshot references, safely beside running backups, in two steps:
 *
 * 1. Mark: find unused packs (and rewrite the used blobs of mostly-unused ones into new
 *    packs), and write them down in a deletion plan together with the operations running
 *    now. Backups that start from then on do not deduplicate against those packs.
 * 2. Delete, once every operation the plan waits for has ended or died (now, if none was
 *    running; otherwise in a later prune): mark again the snapshots written meanwhile, keep
 *    any planned pack they use, store one index of every kept pack that supersedes the old
 *    ones, then delete the old indexes and the packs.
 *
 * Each step leaves a whole repository if interrupted. Only one prune or forget runs at a
 * time (they take the exclusive lock, which backups do not conflict with).
 */
export async function pruneRepository(repo: Repository, options: PruneOptions = {}): Promise<PruneResult> {
  if (!repo.canRead) throw new WriteOnlyKeyError();
  const lock = await acquireLock(repo, 'prune', true);
  try {
    const plans = await readDeletionPlans(repo);
    const earlierPlans = plans.filter((p) => !p.executed);
    // The index objects are read once: prune needs them whole again to write their successor.
    const indexFiles = await repo.readIndexFiles();
    const index = indexOf(indexFiles);
    repo.useIndex(index);
    const marking = new UsedBlobs(repo, options);
    await marking.markNewSnapshots(index);
    const stored = new Map<string, number>();
    for await (const obj of repo.storage.list('data')) stored.set(obj.name.slice('data/'.length), obj.size);

    const plan = planPacks(indexFiles, marking.used, stored, doomedPacks(earlierPlans), options.repackThreshold ?? 0.2);
    const result: PruneResult = {
      packsDeleted: 0,
      packsRewritten: plan.rewrite.length,
      blobsRemoved: plan.blobsRemoved,
      bytesFreed: 0,
      indexesRewritten: 0,
      packsPending: 0,
      bytesPending: 0,
      waitingFor: [],
    };
    if (options.dryRun) {
      const marked = [...plan.remove, ...plan.rewrite];
      return { ...result, packsDeleted: plan.remove.length, bytesFreed: sizeOf(marked, stored) };
    }

    let newPlan: DeletionPlan | undefined;
    let bytesWritten = 0;
    if (plan.remove.length > 0 || plan.rewrite.length > 0) {
      bytesWritten = await rewriteSurvivors(repo, plan.survivors, options);
      newPlan = await writeDeletionPlan(repo, [...plan.remove, ...plan.rewrite], []);
    }
    // Listed after the plan is stored: a backup not listed here starts after it, reads it,
    // and keeps clear of its packs.
    const running = (await readLiveLocks(repo)).filter((l) => l.name !== lock.name);
    if (newPlan && running.length > 0) {
      newPlan.waitFor = running.map((l) => l.name);
      await saveDeletionPlan(repo, newPlan);
    }
    await removeTombstones(repo, plans, running, options.tombstoneMs ?? TOMBSTONE_MS);
    const runningNames = new Set(running.map((l) => l.name));
    const candidates = newPlan ? [...earlierPlans, newPlan] : earlierPlans;
    const ready = candidates.filter((p) => p.waitFor.every((name) => !runningNames.has(name)));
    const waiting = candidates.filter((p) => !ready.includes(p));

    if (ready.length > 0) {
      // Snapshots written since the first mark (by backups that ended meanwhile) keep what they
      // use; of the index objects, only those stored since the first read are fetched.
      const currentFiles = await repo.readIndexFiles(indexFiles);
      const current = indexOf(currentFiles);
      repo.useIndex(current);
      await marking.markNewSnapshots(current);
      marking.assertIndexed(current);
      const doomed = doomedPacks(ready);
      const rescued = packsToRescue(marking.used, currentFiles, doomed);
      const gone = new Set([...doomed].filter((id) => !rescued.has(id)));
      if (gone.size > 0) {
        result.indexesRewritten = await replaceIndexes(repo, indexFiles, gone);
        let deleted = 0;
        for (const id of gone) {
          await repo.storage.delete(`data/${id}`);
          options.onProgress?.({ phase: 'deleting packs', done: ++deleted, total: gone.size });
        }
        // What this process reads from now on: the index objects left, plus the new one.
        repo.useIndex(indexOf(await repo.readIndexFiles(currentFiles)));
      }
      const executed = new Date().toISOString();
      for (const p of ready) await saveDeletionPlan(repo, { ...p, packs: p.packs.filter((id) => gone.has(id)), executed });
      const rewritten = new Set(plan.rewrite);
      result.packsDeleted = [...gone].filter((id) => !rewritten.has(id)).length;
      result.bytesFreed = sizeOf([...gone], stored) - bytesWritten;
    }
    const pending = [...doomedPacks(waiting)];
    result.packsPending = pending.length;
    result.bytesPending = sizeOf(pending, stored);
    result.waitingFor = running.filter((l) => waiting.some((p) => p.waitFor.includes(l.name))).map(describeLock);
    return result;
  } finally {
    await lock.release();
  }
}

/** Margin for a storage's listing to catch up with a backup's lock, and the backup with the tombstone. */
const TOMBSTONE_MS = 15 * 60 * 1000;

/**
 * Deletes tombstones old enough that no backup running now can have loaded the index before
 * their deletion: every live lock is younger than the deletion.
 */
async function removeTombstones(repo: Repository, plans: DeletionPlan[], running: LiveLock[], minAgeMs: number): Promise<void> {
  const oldestRunning = Math.min(...running.map((l) => Date.parse(l.record.created)));
  for (const plan of plans) {
    if (!plan.executed) continue;
    const executed = Date.parse(plan.executed);
    if (Date.now() - executed >= minAgeMs && oldestRunning > executed) await repo.storage.delete(plan.name);
  }
}

function indexOf(files: Map<string, IndexFile>): MasterIndex {
  const index = new MasterIndex();
  for (const [name, file] of files) index.addIndexFile(name, file);
  return index;
}

function sizeOf(packs: readonly string[], stored: Map<string, number>): number {
  return packs.reduce((sum, id) => sum + (stored.get(id) ?? 0), 0);
}

function describeLock(l: LiveLock): string {
  return `${l.record.operation} (pid ${l.record.pid} on ${l.record.host}, since ${l.record.created})`;
}

/**
 * Every blob the snapshots reference. Marks each snapshot once, so calling it again after
 * backups ended marks only their snapshots. Fails if any snapshot or tree cannot be read:
 * what an unreadable snapshot references is unknown, and deleting it could lose data.
 */
class UsedBlobs {
  readonly used = new Set<string>();
  private readonly marked = new Set<string>();

  constructor(
    private readonly repo: Repository,
    private readonly options: PruneOptions,
  ) {}

  /** Marks the snapshots not marked yet; `index` is the one the repository reads with. */
  async markNewSnapshots(index: MasterIndex): Promise<void> {
    const ids = (await this.repo.listSnapshotIds()).filter((id) => !this.marked.has(id));
    let done = 0;
    for (const id of ids) {
      const snapshot = await this.repo.readSnapshot(id);
      await this.markTree(snapshot.tree, index);
      this.marked.add(id);
      this.options.onProgress?.({ phase: 'finding used data', done: ++done, total: ids.length });
    }
  }

  /** Stops prune before it deletes anything if a used blob is in no index (a listing that lags, a lost index). */
  assertIndexed(index: MasterIndex): void {
    for (const id of this.used) if (!index.has(id)) throw this.notIndexed(id);
  }

  private async markTree(treeId: string, index: MasterIndex): Promise<void> {
    if (this.used.has(treeId)) return;
    if (!index.has(treeId)) throw this.notIndexed(treeId);
    this.used.add(treeId);
    for (const node of (await this.repo.readTree(treeId)).nodes) {
      for (const id of node.content ?? []) this.used.add(id);
      if (node.subtree) await this.markTree(node.subtree, index);
    }
  }

  private notIndexed(id: string): RepositoryError {
    return new RepositoryError(
      `blob ${id} is used by a snapshot but listed in no index of ${this.repo.storage.location}; prune deleted nothing: run "coffer repo check", and prune again later`,
    );
  }
}

/** The doomed packs that hold the only copies of some used blob: they must stay. */
function packsToRescue(used: Set<string>, files: Map<string, IndexFile>, doomed: Set<string>): Set<string> {
  const packs = [...files.values()].flatMap((file) => file.packs);
  const keptCopies = new Set<string>();
  for (const pack of packs) {
    if (doomed.has(pack.id.toString('hex'))) continue;
    for (const e of pack.entries) {
      const id = e.id.toString('hex');
      if (used.has(id)) keptCopies.add(id);
    }
  }
  const rescued = new Set<string>();
  for (const pack of packs) {
    const packId = pack.id.toString('hex');
    if (!doomed.has(packId)) continue;
    if (pack.entries.some((e) => used.has(e.id.toString('hex')) && !keptCopies.has(e.id.toString('hex')))) rescued.add(packId);
  }
  return rescued;
}

/** Copies the used blobs of the packs to rewrite into new packs (indexed); returns the bytes stored. */
async function rewriteSurvivors(repo: Repository, survivorsPerPack: Survivor[][], options: PruneOptions): Promise<number> {
  if (survivorsPerPack.length === 0) return 0;
  const session = newSealingSession(repo.master.readPublicKey, PACK_INFO);
  const sealer = new BlobSealer(session.key, repo.config.compression.level);
  const writer = new PackWriter(repo, session.key, session.ephemeralPublic);
  let done = 0;
  for (const survivors of survivorsPerPack) {
    for (const { id, type } of survivors) {
      const data = await repo.readBlob(id);
      await writer.waitForRoom();
      writer.add(type, Buffer.from(id, 'hex'), sealer.seal(Buffer.from(id, 'hex'), data), data.length);
    }
    options.onProgress?.({ phase: 'rewriting packs', done: ++done, total: survivorsPerPack.length });
  }
  await writer.flush(); // writes index objects for the new packs
  return writer.bytesStored;
}

/**
 * Stores one index of every pack the given index objects list, but the deleted ones, that
 * supersedes them; then deletes them. Index objects stored since by backups stay as they are.
 */
async function replaceIndexes(repo: Repository, replaced: Map<string, IndexFile>, deleted: Set<string>): Promise<number> {
  const kept = new Map<string, IndexedPack>();
  for (const file of replaced.values()) {
    for (const pack of file.packs) {
      const id = pack.id.toString('hex');
      if (!deleted.has(id) && !kept.has(id)) kept.set(id, pack);
    }
  }
  await repo.writeIndexFile({ packs: [...kept.values()], supersedes: [...replaced.keys()].map((id) => Buffer.from(id, 'hex')) });
  for (const name of replaced.keys()) await repo.storage.delete(`index/${name}`);
  return replaced.size;
}

/** A used blob that stays: where to read it, and what it is. */
interface Survivor {
  id: string;
  type: BlobType;
}

/**
 * Packs to delete whole, and packs to rewrite (with the used blobs to copy out of them),
 * among those no earlier plan holds already. A used blob stored in several packs (two
 * writers stored it at once, an interrupted prune) counts as used in one pack only: the
 * first not already planned for deletion. The others' copies are waste.
 */
function planPacks(files: Map<string, IndexFile>, used: Set<string>, stored: Map<string, number>, planned: Set<string>, threshold: number) {
  const usedBytes = new Map<string, number>();
  const totalBytes = new Map<string, number>();
  const survivorsOf = new Map<string, Survivor[]>();
  const indexed = new Set<string>();
  const credited = new Set<string>();
  let blobsRemoved = 0;
  for (const file of files.values()) {
    for (const pack of file.packs) {
      const packId = pack.id.toString('hex');
      if (indexed.has(packId) || planned.has(packId)) continue;
      indexed.add(packId);
      const survivors: Survivor[] = [];
      for (const e of pack.entries) {
        const id = e.id.toString('hex');
        totalBytes.set(packId, (totalBytes.get(packId) ?? 0) + e.length);
        if (used.has(id) && !credited.has(id)) {
          credited.add(id);
          usedBytes.set(packId, (usedBytes.get(packId) ?? 0) + e.length);
          survivors.push({ id, type: e.type });
        } else {
          blobsRemoved++;
        }
      }
      survivorsOf.set(packId, survivors);
    }
  }
  const remove: string[] = [];
  const rewrite: string[] = [];
  for (const packId of stored.keys()) {
    if (planned.has(packId)) continue;
    const u = usedBytes.get(packId) ?? 0;
    if (!indexed.has(packId) || u === 0) remove.push(packId);
    else if (1 - u / (totalBytes.get(packId) ?? u) >= threshold) rewrite.push(packId);
  }
  const survivors = rewrite.map((packId) => survivorsOf.get(packId) ?? []);
  return { remove, rewrite, survivors, blobsRemoved };
}
