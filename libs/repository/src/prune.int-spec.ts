/**
 * forget + prune: data no snapshot references goes away, partly used packs are rewritten, and
 * what remains restores byte for byte. A dry run, or a prune that cannot see every snapshot,
 * changes nothing.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { FaultInjectingStorage, openStorage, StorageFullError } from '@coffer/storage';
import { backupFiles } from './backup/backup-files';
import type { BackupResult } from './backup/backup-session';
import { checkRepository } from './check/check-repository';
import { IntegrityError } from './crypto/envelope';
import { SnapshotNotFoundError } from './errors';
import { forgetSnapshots } from './prune/forget-snapshots';
import { pruneRepository } from './prune/prune-repository';
import type { Repository } from './repository';
import { restoreSnapshot } from './restore/restore-snapshot';
import { listSnapshot } from './restore/snapshot-tree';
import { repositoryStats } from './stats';
import {
  ByteStream,
  diffTrees,
  flipByte,
  initRepo,
  MiB,
  objectsOf,
  openRepo,
  rejectionOf,
  removeTempDirs,
  snapshotTree,
  storedObjects,
  tempDir,
  walkFiles,
  writeStreamFile,
} from './test-support/integration';

let base: string;
let src: string;
let repoDir: string;
let repo: Repository;
const snaps: BackupResult[] = [];
/** Pack of each snapshot's own new data. */
const packOf: string[] = [];

const file = (name: string, mib: number) => writeStreamFile(join(src, name), mib * MiB, new ByteStream(name, 0.2));

/** Every object with its content hash: any change to the repository shows. */
function fingerprint(): string[] {
  return storedObjects(repoDir).map((o) => `${o.name} ${createHash('sha256').update(readFileSync(o.path)).digest('hex')}`);
}

async function newPackOf(result: BackupResult, name: string): Promise<string> {
  const index = await repo.loadIndex();
  for await (const e of listSnapshot(repo, result.snapshot)) if (e.path === `${src}/${name}`) return index.get(e.node.content![0])!.packId;
  throw new Error(`${name} not in the snapshot`);
}

/** Ids of every blob (trees and data) the given snapshots reference. */
async function blobsUsedBy(results: BackupResult[]): Promise<Set<string>> {
  const used = new Set<string>();
  for (const r of results) {
    used.add(r.snapshot.tree);
    for await (const e of listSnapshot(repo, r.snapshot)) {
      if (e.node.subtree) used.add(e.node.subtree);
      for (const id of e.node.content ?? []) used.add(id);
    }
  }
  return used;
}

beforeAll(async () => {
  base = tempDir('prune');
  src = join(base, 'src');
  repoDir = join(base, 'repo');
  mkdirSync(src);
  repo = await initRepo(repoDir);
  // s1: keep.bin + gone-1.bin in one pack; s2: gone-2.bin in its own; s3: final.bin in its own.
  file('keep.bin', 3);
  file('gone-1.bin', 3);
  snaps.push(await backupFiles(repo, walkFiles([src]), { paths: [src], time: new Date('2026-01-01T00:00:00Z') }));
  packOf.push(await newPackOf(snaps[0], 'gone-1.bin'));
  rmSync(join(src, 'gone-1.bin'));
  file('gone-2.bin', 3);
  snaps.push(await backupFiles(repo, walkFiles([src]), { paths: [src], time: new Date('2026-01-02T00:00:00Z') }));
  packOf.push(await newPackOf(snaps[1], 'gone-2.bin'));
  rmSync(join(src, 'gone-2.bin'));
  file('final.bin', 2);
  snaps.push(await backupFiles(repo, walkFiles([src]), { paths: [src], time: new Date('2026-01-03T00:00:00Z') }));
  packOf.push(await newPackOf(snaps[2], 'final.bin'));
  expect(new Set(packOf).size).toBe(3);
  expect(await newPackOf(snaps[0], 'keep.bin')).toBe(packOf[0]);
});

afterAll(() => removeTempDirs());

describe('forget', () => {
  it('in a dry run removes nothing; then removes the snapshots the rules do not keep, and no data', async () => {
    const before = fingerprint();
    const dry = await forgetSnapshots(repo, { keepLast: 1 }, { dryRun: true });
    expect(dry.removed).toEqual([]);
    expect(dry.plan.groups.flatMap((g) => g.remove.map((s) => s.id)).sort()).toEqual([snaps[0].snapshotId, snaps[1].snapshotId].sort());
    expect(fingerprint()).toEqual(before);

    const done = await forgetSnapshots(repo, { keepLast: 1 });
    expect(done.removed.sort()).toEqual([snaps[0].snapshotId, snaps[1].snapshotId].sort());
    expect((await repo.listSnapshots()).map((s) => s.id)).toEqual([snaps[2].snapshotId]);
    const err = await rejectionOf(repo.findSnapshot(snaps[0].snapshotId));
    expect(err).toBeInstanceOf(SnapshotNotFoundError);
    expect(objectsOf(repoDir, 'data').map((o) => o.id).sort()).toEqual([...packOf].sort());
  });
});

describe('prune', () => {
  it('in a dry run changes nothing, and reports what it would do', async () => {
    const before = fingerprint();
    const dry = await pruneRepository(repo, { dryRun: true });
    // gone-2.bin's pack is unused; keep.bin's pack is half unused (gone-1.bin) and is rewritten.
    expect(dry).toMatchObject({ packsDeleted: 1, packsRewritten: 1 });
    expect(dry.blobsRemoved).toBeGreaterThan(0);
    expect(dry.bytesFreed).toBeGreaterThan(3 * MiB);
    const lenient = await pruneRepository(repo, { dryRun: true, repackThreshold: 1 });
    expect(lenient).toMatchObject({ packsDeleted: 1, packsRewritten: 0 });
    expect(fingerprint()).toEqual(before);
  });

  it('refuses, changing nothing, when a snapshot cannot be read (what it uses is unknown)', async () => {
    const before = fingerprint();
    const [snapshot] = objectsOf(repoDir, 'snapshots');
    const undo = flipByte(snapshot.path, 100);
    try {
      const err = await rejectionOf(pruneRepository(await openRepo(repoDir)));
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err.message).toBe(`snapshot ${snapshot.id} does not match its name (corrupted)`);
    } finally {
      undo();
    }
    expect(fingerprint()).toEqual(before);
    expect(objectsOf(repoDir, 'locks')).toEqual([]);
  });

  it('deletes unused packs, rewrites partly used ones, and keeps exactly the data the remaining snapshot uses', async () => {
    const statsBefore = await repositoryStats(repo);
    const result = await pruneRepository(repo);
    expect(result).toMatchObject({ packsDeleted: 1, packsRewritten: 1 });

    const packs = objectsOf(repoDir, 'data').map((o) => o.id);
    expect(packs).not.toContain(packOf[0]);
    expect(packs).not.toContain(packOf[1]);
    expect(packs).toContain(packOf[2]);
    expect(packs).toHaveLength(2); // final.bin's pack and the rewritten keep.bin

    const index = await (await openRepo(repoDir)).loadIndex();
    expect(new Set(index.blobs.keys())).toEqual(await blobsUsedBy([snaps[2]]));
    expect(new Set(index.packs.keys())).toEqual(new Set(packs));

    const statsAfter = await repositoryStats(repo);
    expect(statsAfter.snapshots).toBe(1);
    // 6 MiB of plaintext gone (gone-1.bin, gone-2.bin), stored compressed (a fifth of it is text).
    expect(statsBefore.storedBytes - statsAfter.storedBytes).toBeGreaterThan(6 * MiB * 0.75);
    expect(statsAfter.uniqueRawBytes).toBeLessThan(5 * MiB + 64 * 1024);

    // Nothing left to do.
    expect(await pruneRepository(repo)).toMatchObject({ packsDeleted: 0, packsRewritten: 0, blobsRemoved: 0, bytesFreed: 0 });
  });

  it('leaves a repository that checks clean and restores byte for byte', async () => {
    const check = await checkRepository(await openRepo(repoDir), { readDataPercent: 100 });
    expect(check).toMatchObject({ errors: [], notes: [], snapshots: 1 });
    for (const r of [repo, await openRepo(repoDir)]) {
      const target = tempDir('prune-restore');
      const restored = await restoreSnapshot(r, snaps[2].snapshot, { target });
      expect(restored.errors).toEqual([]);
      expect(diffTrees(snapshotTree(src), snapshotTree(join(target, src)))).toEqual([]);
    }
  });

  it('leaves an index the next backup deduplicates against', async () => {
    const next = await backupFiles(repo, walkFiles([src]), { paths: [src], parent: false });
    expect(next.snapshot.stats.bytesRead).toBe(5 * MiB);
    expect(next.snapshot.stats.bytesNew).toBeLessThan(16 * 1024);
  });
});

describe('a prune interrupted by a failing write', () => {
  for (const [what, fault] of [
    ['the index of the rewritten packs', { nthIndex: 1, afterWrite: false }],
    ['the new index of everything kept', { nthIndex: 2, afterWrite: false }],
    ['the new index of everything kept, after it was stored', { nthIndex: 2, afterWrite: true }],
  ] as const) {
    it(`(${what}) leaves a whole repository, and the next prune finishes the job`, async () => {
      const dir = tempDir('prune-fault');
      const data = join(dir, 'src');
      mkdirSync(data);
      const storage = new FaultInjectingStorage(openStorage(join(dir, 'repo')));
      const r = await initRepo(join(dir, 'repo'), {}, storage);
      writeStreamFile(join(data, 'keep.bin'), 2 * MiB, new ByteStream('keep'));
      writeStreamFile(join(data, 'drop.bin'), 2 * MiB, new ByteStream('drop'));
      await backupFiles(r, walkFiles([data]), { paths: [data], time: new Date('2026-02-01T00:00:00Z') });
      rmSync(join(data, 'drop.bin'));
      const kept = await backupFiles(r, walkFiles([data]), { paths: [data], time: new Date('2026-02-02T00:00:00Z') });
      await forgetSnapshots(r, { keepLast: 1 });

      let indexPuts = 0;
      storage.failPut({ match: (name) => name.startsWith('index/') && ++indexPuts === fault.nthIndex, afterWrite: fault.afterWrite });
      const err = await rejectionOf(pruneRepository(r));
      expect(err).toBeInstanceOf(StorageFullError);
      storage.clearFaults();

      const whole = async () => {
        const fresh = await openRepo(join(dir, 'repo'));
        const check = await checkRepository(fresh, { readDataPercent: 100, workers: 1 });
        expect(check.errors).toEqual([]);
        const target = tempDir('prune-fault-restore');
        expect((await restoreSnapshot(fresh, kept.snapshot, { target, workers: 1 })).errors).toEqual([]);
        expect(diffTrees(snapshotTree(data), snapshotTree(join(target, data)))).toEqual([]);
        return check;
      };
      await whole();
      expect(objectsOf(join(dir, 'repo'), 'locks')).toEqual([]);

      await pruneRepository(r);
      expect((await whole()).notes).toEqual([]);
      // Only keep.bin's data (and the listings) remain.
      expect((await repositoryStats(r)).uniqueRawBytes).toBeLessThan(2 * MiB + 64 * 1024);
      expect(await pruneRepository(r)).toMatchObject({ packsDeleted: 0, packsRewritten: 0 });
    });
  }
});
