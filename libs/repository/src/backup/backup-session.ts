import { hostname, userInfo } from 'node:os';
import { contentId, newSealingSession } from '../crypto/envelope';
import { BlobSealer } from '../format/blob-codec';
import { BlobType } from '../format/pack';
import { PACK_INFO } from '../format/pack-info';
import type { Snapshot, SnapshotStats } from '../format/snapshot';
import { encodeTree, TreeNode } from '../format/tree';
import { RepositoryError } from '../errors';
import { acquireLock, RepositoryLock } from '../locks';
import type { MasterIndex } from '../master-index';
import { DeletionPlan, doomedPacks, readDeletionPlans } from '../prune/deletion-plans';
import type { Repository } from '../repository';
import { WorkerPool } from '../worker/worker-pool';
import type { TaskWindow } from '../worker/task-window';
import { PackWriter } from './pack-writer';

/** Live numbers of a running backup, for progress displays. */
export interface BackupProgress {
  files: number;
  dirs: number;
  /** Bytes of files dealt with so far (read, or unchanged and skipped). */
  bytesDone: number;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
  elapsedMs: number;
}

/** What every kind of backup accepts. */
export interface BackupOptions {
  host?: string;
  tags?: string[];
  /** Time recorded in the snapshot; defaults to the start of the backup. */
  time?: Date;
  onProgress?: (progress: BackupProgress) => void;
  /** Called for each problem that gives the backup a warning status. */
  onWarning?: (message: string) => void;
  /** Called for things skipped on purpose (sockets, devices): worth a note, not a warning. */
  onNote?: (message: string) => void;
  /** Worker threads; defaults to the number of cores. */
  workers?: number;
}

/** How a backup ended. */
export interface BackupResult {
  snapshotId: string;
  snapshot: Snapshot;
}

const MAX_WARNINGS = 1000;

/**
 * One backup's shared state on the main thread: the lock, the index it deduplicates against,
 * the sealing session, the pack writer and the worker pool. Every backup kind drives one.
 */
export class BackupSession {
  readonly started = Date.now();
  readonly index: MasterIndex;
  readonly packs: PackWriter;
  readonly pool: WorkerPool;
  /** Blob ids stored by this session, not yet in any loaded index. */
  private readonly stored = new Set<string>();
  /** Packs a running prune means to delete: never deduplicated against. */
  private readonly doomed: Set<string>;
  /** Packs holding blobs this backup reuses instead of storing them again. */
  private readonly reusedPacks = new Set<string>();
  private readonly sealer: BlobSealer;
  readonly stats: SnapshotStats = { files: 0, dirs: 0, totalBytes: 0, bytesRead: 0, bytesNew: 0, bytesStored: 0, durationMs: 0 };
  bytesDone = 0;
  readonly warnings: string[] = [];
  private lastProgress = 0;

  private constructor(
    readonly repo: Repository,
    private readonly lock: RepositoryLock,
    readonly options: BackupOptions,
    index: MasterIndex,
    private readonly plansAtStart: DeletionPlan[],
  ) {
    this.index = index;
    this.doomed = doomedPacks(plansAtStart);
    const session = newSealingSession(repo.master.readPublicKey, PACK_INFO);
    this.sealer = new BlobSealer(session.key, repo.config.compression.level);
    this.packs = new PackWriter(repo, session.key, session.ephemeralPublic);
    this.pool = new WorkerPool(
      repo.workerSetup({ packKey: session.key }),
      {
        dedupAsk: async (chunks) => {
          const fresh = chunks.filter(([id, size]) => this.claim(id, size)).map(([id]) => id);
          await this.packs.waitForRoom();
          return fresh;
        },
        sealed: (blobs, buffer) => {
          for (const [id, offset, length, rawLength] of blobs) {
            this.packs.add(BlobType.Data, Buffer.from(id, 'hex'), buffer.subarray(offset, offset + length), rawLength);
          }
          this.reportProgress();
        },
      },
      options.workers,
    );
  }

  /**
   * Locks the repository (shared: backups may run side by side, and beside prune), then
   * reads prune's deletion plans, then the index — in this order, so a plan written after
   * this backup's lock is one whose prune waits for this backup.
   */
  static async start(repo: Repository, options: BackupOptions, operation = 'backup'): Promise<BackupSession> {
    const lock = await acquireLock(repo, operation, false);
    try {
      const plans = await readDeletionPlans(repo);
      // Fresh, not cached: other processes may have stored data (and parent snapshots) since.
      return new BackupSession(repo, lock, options, await repo.loadIndex(true), plans);
    } catch (err) {
      await lock.release();
      throw err;
    }
  }

  /** True, and counted as new, when the repository lacks this blob and nobody stores it yet. */
  private claim(id: string, size: number): boolean {
    if (this.knows(id)) return false;
    this.stored.add(id);
    this.stats.bytesNew += size;
    return true;
  }

  /** True when the blob is stored (outside packs prune is deleting) or being stored. */
  knows(id: string): boolean {
    if (this.stored.has(id)) return true;
    const location = this.index.get(id);
    if (!location || this.doomed.has(location.packId)) return false;
    this.reusedPacks.add(location.packId);
    return true;
  }

  /** Stores a blob made on the main thread (trees, stdin chunks); returns its id. */
  async storeBlob(type: BlobType, data: Buffer): Promise<string> {
    const id = contentId(this.repo.master.idKey, data);
    const hex = id.toString('hex');
    if (this.claim(hex, data.length)) {
      await this.packs.waitForRoom();
      this.packs.add(type, id, this.sealer.seal(id, data), data.length);
    }
    return hex;
  }

  /**
   * Stores chunks cut on the main thread (a stream's) through a worker, which names,
   * deduplicates and seals them; resolves to their ids in order. The chunks' memory moves
   * to the worker: they are unusable afterwards.
   */
  async storeChunks(chunks: Buffer[]): Promise<string[]> {
    const buffers = chunks.map((c) =>
      c.byteOffset === 0 && c.byteLength === c.buffer.byteLength ? (c.buffer as ArrayBuffer) : new Uint8Array(c).slice().buffer,
    );
    const done = await this.pool.run<'chunks-done'>({ type: 'backup-chunks', chunks: buffers }, buffers);
    return done.content;
  }

  /** A window bounding the worker tasks a caller keeps in flight (see WorkerPool.taskWindow). */
  taskWindow(): TaskWindow {
    return this.pool.taskWindow();
  }

  /** Every directory listing of this backup by id, when kept (for a write-only key's cache). */
  treeLog?: Record<string, TreeNode[]>;

  /** Stores a directory listing; returns the tree id. */
  async storeTree(nodes: TreeNode[]): Promise<string> {
    const id = await this.storeBlob(BlobType.Tree, encodeTree(nodes));
    if (this.treeLog) this.treeLog[id] = nodes;
    return id;
  }

  warn(message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push(message);
    this.options.onWarning?.(message);
  }

  reportProgress(force = false): void {
    const now = Date.now();
    if (!this.options.onProgress || (!force && now - this.lastProgress < 200)) return;
    this.lastProgress = now;
    this.options.onProgress({
      files: this.stats.files,
      dirs: this.stats.dirs,
      bytesDone: this.bytesDone,
      bytesRead: this.stats.bytesRead,
      bytesNew: this.stats.bytesNew,
      bytesStored: this.packs.bytesStored,
      elapsedMs: now - this.started,
    });
  }

  /**
   * Makes everything durable, then writes the snapshot — last, so a snapshot never exists
   * without every object it references.
   */
  commit(meta: { sourceKind: string; paths: string[]; parent?: string; tree: string }): Promise<BackupResult> {
    return this.commitSnapshot(() => {
      this.stats.bytesStored = this.packs.bytesStored;
      this.stats.durationMs = Date.now() - this.started;
      this.reportProgress(true);
      return {
        version: 1,
        time: (this.options.time ?? new Date(this.started)).toISOString(),
        host: this.options.host ?? hostname(),
        username: currentUser(),
        sourceKind: meta.sourceKind,
        paths: meta.paths,
        tags: this.options.tags ?? [],
        ...(meta.parent ? { parent: meta.parent } : {}),
        tree: meta.tree,
        stats: this.stats,
        warnings: this.warnings,
      };
    });
  }

  /** Makes everything stored so far durable, then writes the snapshot `describe` returns. */
  async commitSnapshot(describe: () => Snapshot): Promise<BackupResult> {
    await this.packs.flush();
    await this.checkNoPruneRace();
    const snapshot = describe();
    const snapshotId = await this.repo.saveSnapshot(snapshot);
    return { snapshotId, snapshot };
  }

  /**
   * A prune that started after this backup waits for it (it lists this backup's lock), and
   * keeps whatever the snapshot will reference. Only a storage whose listing lagged could
   * hide the lock from prune: then data this backup reuses may be gone, and the snapshot
   * must not be written.
   */
  private async checkNoPruneRace(): Promise<void> {
    const known = new Set(this.plansAtStart.map((p) => p.name));
    for (const plan of await readDeletionPlans(this.repo)) {
      if (known.has(plan.name) || plan.waitFor.includes(this.lock.name)) continue;
      const lost = plan.packs.filter((id) => this.reusedPacks.has(id));
      if (lost.length > 0) {
        throw new RepositoryError(
          `a prune that started at ${plan.created} did not see this backup running (the storage's listing lagged) and is deleting ${lost.length} pack(s) it reuses; ` +
            'no snapshot was written: run the backup again',
        );
      }
    }
  }

  /** Stops the workers and releases the lock, whatever happened. */
  async close(): Promise<void> {
    await this.pool.close();
    // After a failure, uploads already started may still be running: not past the lock.
    await this.packs.settle();
    await this.lock.release();
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return String(process.getuid?.() ?? 'unknown');
  }
}
