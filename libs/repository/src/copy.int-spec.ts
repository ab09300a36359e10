/**
 * Offsite copies: snapshots copied to a second repository with its own keys restore byte for
 * byte there, only data the target lacks is stored, and copying again copies nothing.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaultInjectingStorage, openStorage } from '@coffer/storage';
import { backupFiles } from './backup/backup-files';
import { checkRepository } from './check/check-repository';
import { copySnapshots } from './copy/copy-snapshots';
import { WriteOnlyKeyError } from './crypto/envelope';
import { Repository } from './repository';
import { restoreSnapshot } from './restore/restore-snapshot';
import {
  expectSameTree,
  FAST_SCRYPT,
  initRepo,
  MiB,
  PASSWORD,
  randomTree,
  rejectionOf,
  removeTempDirs,
  storedObjects,
  tempDir,
  walkFiles,
} from './test-support/integration';

const OFFSITE_PASSWORD = 'another password for the offsite copy';

let base: string;
let web: string;
let db: string;
let source: Repository;
let targetDir: string;
let target: Repository;

beforeAll(async () => {
  base = tempDir('copy');
  web = randomTree(join(base, 'web'), [2, 2, 1], 'web files');
  db = randomTree(join(base, 'db'), [1], 'db files');
  source = await initRepo(join(base, 'a'));
  await backupFiles(source, walkFiles([web]), { paths: [web], host: 'web-1', tags: ['daily'], time: new Date('2026-03-01T00:00:00Z') });
  appendFileSync(join(web, 'part-2.bin'), 'a few more bytes');
  await backupFiles(source, walkFiles([web]), { paths: [web], host: 'web-1', tags: ['daily'], time: new Date('2026-03-02T00:00:00Z') });
  await backupFiles(source, walkFiles([db]), { paths: [db], host: 'db-1', time: new Date('2026-03-02T01:00:00Z') });
  targetDir = join(base, 'b');
  target = await Repository.init(openStorage(targetDir), OFFSITE_PASSWORD, { scrypt: FAST_SCRYPT });
});

afterAll(() => removeTempDirs());

/** Counts the bytes read from a storage. */
class CountingStorage extends FaultInjectingStorage {
  bytesRead = 0;

  override async get(name: string): Promise<Buffer> {
    const data = await super.get(name);
    this.bytesRead += data.length;
    return data;
  }

  override async getRange(name: string, offset: number, length: number): Promise<Buffer> {
    const data = await super.getRange(name, offset, length);
    this.bytesRead += data.length;
    return data;
  }
}

/** Every object of the target but its locks, with its size: what a second copy must not change. */
function targetObjects(): string[] {
  return storedObjects(targetDir)
    .filter((o) => o.kind !== 'locks')
    .map((o) => `${o.name} ${o.size}`);
}

describe('repo copy', () => {
  it('copies the snapshots a filter selects, with their metadata and nothing else', async () => {
    const result = await copySnapshots(source, target, { filter: (ref) => ref.snapshot.host === 'web-1' });
    expect(result.copied).toHaveLength(2);
    expect(result.alreadyThere).toEqual([]);
    // The second web snapshot shares all but its last chunk with the first.
    expect(result.bytesCopied).toBeGreaterThanOrEqual(5 * MiB);
    expect(result.bytesCopied).toBeLessThan(6.5 * MiB);
    const copies = await target.listSnapshots();
    const originals = await source.listSnapshots();
    expect(copies.map((c) => c.snapshot.original)).toEqual(originals.slice(0, 2).map((o) => o.id));
    for (const [i, copy] of copies.entries()) {
      const { time, host, username, sourceKind, paths, tags, stats, warnings } = originals[i].snapshot;
      expect(copy.snapshot).toMatchObject({ time, host, username, sourceKind, paths, tags, stats, warnings });
    }
    expect(copies[1].snapshot.parent).toBe(copies[0].id);
  });

  it('copies the rest, and leaves a target that checks clean and restores byte for byte', async () => {
    const result = await copySnapshots(source, target);
    expect(result.copied.map((c) => c.source)).toEqual([(await source.listSnapshots())[2].id]);
    expect(result.alreadyThere).toHaveLength(2);
    const fresh = await Repository.open(openStorage(targetDir), OFFSITE_PASSWORD);
    expect(await checkRepository(fresh, { readDataPercent: 100 })).toMatchObject({ errors: [], snapshots: 3 });
    const latest = await fresh.findSnapshot('latest', (s) => s.host === 'web-1');
    const restored = join(base, 'restore-web');
    expect((await restoreSnapshot(fresh, latest.snapshot, { target: restored })).errors).toEqual([]);
    expectSameTree(web, restored);
    const dbCopy = await fresh.findSnapshot('latest', (s) => s.host === 'db-1');
    const restoredDb = join(base, 'restore-db');
    expect((await restoreSnapshot(fresh, dbCopy.snapshot, { target: restoredDb })).errors).toEqual([]);
    expectSameTree(db, restoredDb);
  });

  it('copies nothing when run again', async () => {
    const before = targetObjects();
    const again = await copySnapshots(source, await Repository.open(openStorage(targetDir), OFFSITE_PASSWORD));
    expect(again).toMatchObject({ copied: [], blobsCopied: 0, bytesCopied: 0 });
    expect(again.alreadyThere).toHaveLength(3);
    expect(targetObjects()).toEqual(before);
  });

  it("copies a new snapshot reading only the source's changed data, matched against the last copy", async () => {
    writeFileSync(join(web, 'new.txt'), 'new since the last copy\n');
    await backupFiles(source, walkFiles([web]), { paths: [web], host: 'web-1', tags: ['daily'], time: new Date('2026-03-03T00:00:00Z') });
    const counting = new CountingStorage(openStorage(join(base, 'a')));
    const from = await Repository.open(counting, PASSWORD);
    const result = await copySnapshots(from, await Repository.open(openStorage(targetDir), OFFSITE_PASSWORD));
    expect(result.copied).toHaveLength(1);
    expect(result.bytesCopied).toBe('new since the last copy\n'.length);
    // Snapshots, index and trees only: no chunk of the unchanged 5 MiB was fetched.
    expect(counting.bytesRead).toBeLessThan(64 * 1024);
    const fresh = await Repository.open(openStorage(targetDir), OFFSITE_PASSWORD);
    expect(await checkRepository(fresh, { readDataPercent: 100 })).toMatchObject({ errors: [], snapshots: 4 });
  });

  it('needs a key that can read, on both sides', async () => {
    await target.addKey('write only', { writeOnly: true });
    const writeOnly = await Repository.open(openStorage(targetDir), 'write only');
    expect(await rejectionOf(copySnapshots(source, writeOnly))).toBeInstanceOf(WriteOnlyKeyError);
  });
});
