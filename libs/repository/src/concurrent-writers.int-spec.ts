/**
 * Many writers into one repository at once, with prune running meanwhile: no global lock,
 * every backup succeeds and deduplicates against the others, prune never deletes what a
 * running backup reuses, and a writer killed halfway is recovered from on its own. A
 * storage whose listing lags behind writes never yields a snapshot that references
 * missing data.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultInjectingStorage, openStorage } from '@coffer/storage';
import { backupFiles } from './backup/backup-files';
import { checkRepository } from './check/check-repository';
import { RepositoryError } from './errors';
import { pruneRepository } from './prune/prune-repository';
import { Repository } from './repository';
import { restoreSnapshot } from './restore/restore-snapshot';
import {
  expectSameTree,
  initRepo,
  MiB,
  objectsOf,
  openRepo,
  PASSWORD,
  randomTree,
  rejectionOf,
  removeTempDirs,
  runChild,
  tempDir,
  waitFor,
  walkFiles,
} from './test-support/integration';

afterAll(() => removeTempDirs());

/**
 * A backup in its own process that pauses once it holds its lock and has loaded the index
 * (after the walk's first events), until `gate` exists; then prints its snapshot.
 */
function pausedBackup(repoDir: string, src: string, host: string, gate: string) {
  const child = runChild(
    `backup-${host}`,
    `const [repoDir, src, host, gate] = args;
const repo = await Repository.open(openStorage(repoDir), ${JSON.stringify(PASSWORD)});
async function* gated(walk) {
  let events = 0;
  for await (const event of walk) {
    if (++events === 2) {
      console.log('paused');
      while (!fs.existsSync(gate)) await new Promise((r) => setTimeout(r, 20));
    }
    yield event;
  }
}
const result = await backupFiles(repo, gated(walkFiles([src])), { paths: [src], host, workers: 1 });
console.log('snapshot ' + JSON.stringify({ id: result.snapshotId, src, host, bytesNew: result.snapshot.stats.bytesNew }));`,
    [repoDir, src, host, gate],
  );
  return { ...child, paused: () => waitFor(`${host}'s backup to pause`, () => child.output().includes('paused'), child.exited, child.output) };
}

function snapshotLine(output: string): { id: string; src: string; host: string; bytesNew: number } {
  const line = output.split('\n').find((l) => l.startsWith('snapshot '));
  if (!line) throw new Error(`no snapshot printed:\n${output}`);
  return JSON.parse(line.slice('snapshot '.length));
}

/** The file data, plus a few directory listings (trees) of a few hundred bytes. */
function expectNewBytes(bytesNew: number, fileBytes: number): void {
  expect(bytesNew).toBeGreaterThanOrEqual(fileBytes);
  expect(bytesNew).toBeLessThan(fileBytes + 16 * 1024);
}

async function restoresByteForByte(repo: Repository, base: string, sources: Map<string, string>): Promise<void> {
  for (const ref of await repo.listSnapshots()) {
    const target = join(base, `restore-${ref.id.slice(0, 8)}`);
    expect((await restoreSnapshot(repo, ref.snapshot, { target })).errors).toEqual([]);
    const src = sources.get(ref.id);
    if (!src) throw new Error(`snapshot ${ref.id} of ${ref.snapshot.paths.join(', ')} was not made by this test`);
    expectSameTree(src, target);
  }
}

describe('many writers and prune at once', () => {
  it('seven backups from three hosts run side by side with prune; prune keeps what they reuse; all restore byte for byte', async () => {
    const base = tempDir('writers');
    const repoDir = join(base, 'repo');
    const shared = randomTree(join(base, 'shared'), [2, 2, 2], 'shared');
    const own1 = randomTree(join(base, 'own-1'), [1, 1], 'own 1');
    const own2 = randomTree(join(base, 'own-2'), [1, 1], 'own 2');
    const doomedSrc = randomTree(join(base, 'killed'), [1], 'killed');
    const repo = await initRepo(repoDir);
    // An old snapshot of the shared files, about to be forgotten: its packs are what prune
    // wants to delete and what the backups below deduplicate against.
    const old = await backupFiles(repo, walkFiles([shared]), { paths: [shared], host: 'old' });
    const oldPacks = objectsOf(repoDir, 'data').map((o) => o.id);

    const gate = join(base, 'gate');
    const writers = [
      pausedBackup(repoDir, shared, 'web-1', gate),
      pausedBackup(repoDir, shared, 'web-1', gate), // the same host and paths twice at once
      pausedBackup(repoDir, shared, 'web-2', gate),
      pausedBackup(repoDir, shared, 'db-1', gate),
      pausedBackup(repoDir, own1, 'web-1', gate),
      pausedBackup(repoDir, own2, 'web-2', gate),
    ];
    const killed = pausedBackup(repoDir, doomedSrc, 'killed', gate);
    try {
      for (const w of [...writers, killed]) await w.paused();
      killed.child.kill('SIGKILL');
      await killed.exited;

      // Forget the old snapshot and prune while six backups hold their locks.
      await repo.storage.delete(`snapshots/${old.snapshotId}`);
      const first = await pruneRepository(repo);
      expect(first.packsDeleted).toBe(0);
      expect(first.packsPending).toBe(oldPacks.length);
      // The killed writer's lock is stale (its process is gone): nothing waits for it.
      expect(first.waitingFor).toHaveLength(6);
      for (const w of first.waitingFor) expect(w).toMatch(/^backup \(pid \d+ on [^,]+, since .+\)$/);
      expect(objectsOf(repoDir, 'data').map((o) => o.id)).toEqual(expect.arrayContaining(oldPacks));

      // A backup that starts after prune's mark stores data anew rather than depend on packs
      // marked for deletion (here one of the shared files; the other two stay only in the old pack).
      const lateSrc = join(base, 'late');
      mkdirSync(lateSrc);
      copyFileSync(join(shared, 'part-0.bin'), join(lateSrc, 'part-0.bin'));
      const late = await backupFiles(await openRepo(repoDir), walkFiles([lateSrc]), { paths: [lateSrc], host: 'late' });
      expectNewBytes(late.snapshot.stats.bytesNew, 2 * MiB);

      writeFileSync(gate, '');
      const results = [];
      for (const w of writers) {
        expect(await w.exited).toEqual({ code: 0, signal: null });
        results.push(snapshotLine(w.output()));
      }
      // They loaded the index before the mark: the shared files were stored, only the listings
      // of their parent directories (/tmp changed since) are new.
      for (const r of results.filter((r) => r.src === shared)) expectNewBytes(r.bytesNew, 0);
      for (const r of results.filter((r) => r.src !== shared)) expectNewBytes(r.bytesNew, 2 * MiB);

      // The next prune, with no backup running, marks again: the old packs are used by the
      // six new snapshots and stay; nothing is left pending.
      const second = await pruneRepository(await openRepo(repoDir));
      expect(second.packsPending).toBe(0);
      expect(objectsOf(repoDir, 'data').map((o) => o.id)).toEqual(expect.arrayContaining(oldPacks));

      const after = await openRepo(repoDir);
      expect(await checkRepository(after, { readDataPercent: 100 })).toMatchObject({ errors: [], snapshots: 7 });
      const sources = new Map([[late.snapshotId, lateSrc], ...results.map((r) => [r.id, r.src] as [string, string])]);
      await restoresByteForByte(after, base, sources);
      expect(objectsOf(repoDir, 'locks')).toEqual([]);
    } finally {
      if (!existsSync(gate)) writeFileSync(gate, '');
      for (const w of [...writers, killed]) w.child.kill('SIGKILL');
    }
  });
});

describe('a storage whose listing lags behind writes', () => {
  it('prune that cannot see a new index deletes nothing and says why', async () => {
    const base = tempDir('lag-index');
    const repoDir = join(base, 'repo');
    const src = randomTree(join(base, 'src'), [1, 1], 'lag index');
    await initRepo(repoDir);
    const lagging = new FaultInjectingStorage(openStorage(repoDir));
    await lagging.lagListings(['index']);
    const repo = await Repository.open(lagging, PASSWORD);
    await backupFiles(repo, walkFiles([src]), { paths: [src] });
    const packs = objectsOf(repoDir, 'data');

    const err = await rejectionOf(pruneRepository(repo));
    expect(err).toBeInstanceOf(RepositoryError);
    expect(err.message).toMatch(new RegExp(`^blob [0-9a-f]{64} is used by a snapshot but listed in no index of ${repoDir}; prune deleted nothing: run "coffer repo check", and prune again later$`));
    expect(objectsOf(repoDir, 'data')).toEqual(packs);

    lagging.clearFaults();
    expect((await pruneRepository(repo)).packsDeleted).toBe(0);
    expect(await checkRepository(await openRepo(repoDir), { readDataPercent: 100 })).toMatchObject({ errors: [] });
  });

  it('a backup that prune could not see running writes no snapshot when prune deleted data it reuses', async () => {
    const base = tempDir('lag-locks');
    const repoDir = join(base, 'repo');
    const shared = randomTree(join(base, 'shared'), [1, 1], 'lag locks');
    const repo = await initRepo(repoDir);
    const old = await backupFiles(repo, walkFiles([shared]), { paths: [shared], host: 'old' });

    // Prune's view of the locks is frozen before the backup takes its lock.
    const lagging = new FaultInjectingStorage(openStorage(repoDir));
    await lagging.lagListings(['locks']);
    const gate = join(base, 'gate');
    const writer = pausedBackup(repoDir, shared, 'web-1', gate);
    try {
      await writer.paused();
      await repo.storage.delete(`snapshots/${old.snapshotId}`);
      const pruned = await pruneRepository(await Repository.open(lagging, PASSWORD));
      expect(pruned.packsPending).toBe(0);
      expect(pruned.packsDeleted).toBeGreaterThan(0);
      writeFileSync(gate, '');
      expect(await writer.exited).toEqual({ code: 3, signal: null });
      expect(writer.output()).toMatch(
        /a prune that started at \S+ did not see this backup running \(the storage's listing lagged\) and is deleting \d+ pack\(s\) it reuses; no snapshot was written: run the backup again/,
      );
    } finally {
      if (!existsSync(gate)) writeFileSync(gate, '');
      writer.child.kill('SIGKILL');
    }
    expect(objectsOf(repoDir, 'snapshots')).toEqual([]);
    // The next backup stores everything again, and the repository checks clean.
    const again = await backupFiles(await openRepo(repoDir), walkFiles([shared]), { paths: [shared] });
    expectNewBytes(again.snapshot.stats.bytesNew, 2 * MiB);
    expect(await checkRepository(await openRepo(repoDir), { readDataPercent: 100 })).toMatchObject({ errors: [] });
  });
});
