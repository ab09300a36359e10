/**
 * What a user meets when things go wrong: a full disk, a storage that fails, a backup killed
 * midway, wrong passwords and references, locks. Every failure leaves a repository that checks
 * clean and takes the next backup.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { FaultInjectingStorage, openStorage, PutOptions, Storage, StorageFullError } from '@coffer/storage';
import { backupFiles } from './backup/backup-files';
import { backupStream } from './backup/backup-stream';
import { checkRepository } from './check/check-repository';
import { sealToPublic, WriteOnlyKeyError } from './crypto/envelope';
import { NotARepositoryError, RepositoryExistsError, RepositoryLockedError, SnapshotNotFoundError, UsageError, WrongPasswordError } from './errors';
import { acquireLock } from './locks';
import { forgetSnapshots } from './prune/forget-snapshots';
import { pruneRepository } from './prune/prune-repository';
import { Repository } from './repository';
import { restoreSnapshot } from './restore/restore-snapshot';
import { dumpFile } from './restore/snapshot-tree';
import {
  collector,
  expectSameTree,
  FAST_SCRYPT,
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

// ---------------------------------------------------------------------------------------------

const DISALLOW_SKIP = process.env.COFFER_TEST_DISALLOW_SKIP === '1';

/** True when this process may mount a tmpfs (root with CAP_SYS_ADMIN). */
function canMountTmpfs(): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'coffer-it-probe-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
    execFileSync('umount', [dir], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  } finally {
    rmdirSync(dir);
  }
}

const tmpfs = canMountTmpfs();
if (!tmpfs && !DISALLOW_SKIP) console.warn('failures.int-spec: cannot mount a tmpfs here (not root?): the disk-full test is skipped');

describe('a full disk', () => {
  (tmpfs || DISALLOW_SKIP ? it : it.skip)('fails the backup with StorageFullError, leaves no snapshot and a clean repository, and the next backup works', async () => {
    const base = tempDir('diskfull');
    const mountPoint = join(base, 'mnt');
    mkdirSync(mountPoint);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    try {
      const repoDir = join(mountPoint, 'repo');
      const src = randomTree(join(base, 'src'), [20, 20, 20], 'disk full');
      const repo = await initRepo(repoDir);

      const err = await rejectionOf(backupFiles(repo, walkFiles([src]), { paths: [src] }));
      expect(err).toBeInstanceOf(StorageFullError);
      expect(err.message).toMatch(new RegExp(`^no space left on ${repoDir} while writing data/[0-9a-f]{64}$`));
      expect(await repo.listSnapshotIds()).toEqual([]);
      expect(objectsOf(repoDir, 'locks')).toEqual([]);
      const afterFailure = await checkRepository(await openRepo(repoDir), { readDataPercent: 100, workers: 1 });
      expect(afterFailure.errors).toEqual([]);
      // Packs stored before the disk filled, if any (both uploads in flight may fail), are in no index.
      for (const note of afterFailure.notes) expect(note).toMatch(/^\d+ pack\(s\) are in no index \(left by an interrupted backup; prune removes them\)$/);

      // More room, and the same backup goes through.
      execFileSync('mount', ['-o', 'remount,size=160m', mountPoint], { stdio: 'pipe' });
      const ok = await backupFiles(repo, walkFiles([src]), { paths: [src] });
      expect(ok.snapshot.stats.totalBytes).toBe(60 * MiB);
      expect((await repo.listSnapshots()).map((s) => s.id)).toEqual([ok.snapshotId]);
      const target = join(base, 'restore');
      expect((await restoreSnapshot(repo, ok.snapshot, { target })).errors).toEqual([]);
      expectSameTree(src, target);
      const check = await checkRepository(await openRepo(repoDir), { readDataPercent: 100 });
      expect(check.errors).toEqual([]);
      // Packs stored before the disk filled are in no index: prune removes them.
      await pruneRepository(repo);
      expect(await checkRepository(await openRepo(repoDir))).toMatchObject({ errors: [], notes: [] });
    } finally {
      execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
    }
  });
});

describe('a storage that fails a write mid-backup', () => {
  for (const [what, match] of [
    ['the third pack', (() => {
      let packs = 0;
      return (name: string) => name.startsWith('data/') && ++packs === 3;
    })()],
    ['the index', /^index\//],
    ['the snapshot', /^snapshots\//],
  ] as const) {
    it(`fails the backup when ${what} cannot be written, leaves no snapshot, and the next backup works`, async () => {
      const base = tempDir('faulty');
      const src = randomTree(join(base, 'src'), [1, 2, 3], `faulty ${what}`);
      const repoDir = join(base, 'repo');
      const storage = new FaultInjectingStorage(openStorage(repoDir));
      const repo = await initRepo(repoDir, { packSize: 512 * 1024 }, storage);
      storage.failPut({ match });

      const err = await rejectionOf(backupFiles(repo, walkFiles([src]), { paths: [src], workers: 1 }));
      expect(err).toBeInstanceOf(StorageFullError);
      expect(err.message).toMatch(new RegExp(`^no space left on ${repoDir} while writing (data|index|snapshots)/[0-9a-f]{64}$`));
      expect(await repo.listSnapshotIds()).toEqual([]);
      expect(objectsOf(repoDir, 'locks')).toEqual([]);
      expect((await checkRepository(await openRepo(repoDir), { readDataPercent: 100, workers: 1 })).errors).toEqual([]);

      storage.clearFaults();
      const ok = await backupFiles(repo, walkFiles([src]), { paths: [src], workers: 1 });
      const target = join(base, 'restore');
      expect((await restoreSnapshot(repo, ok.snapshot, { target, workers: 1 })).errors).toEqual([]);
      expectSameTree(src, target);
      expect((await checkRepository(await openRepo(repoDir), { readDataPercent: 100, workers: 1 })).errors).toEqual([]);
    });
  }
});

describe('a backup whose upload fails while another is still running', () => {
  it('returns only once nothing is being written any more, then releases its lock', async () => {
    const base = tempDir('inflight');
    const src = randomTree(join(base, 'src'), [1, 1, 1, 1], 'in flight');
    const repoDir = join(base, 'repo');
    const inner = openStorage(repoDir);
    let dataPuts = 0;
    let pending = 0;
    const events: string[] = [];
    // The first pack uploads slowly; the second fails at once, as a full disk would.
    const storage: Storage = Object.assign(Object.create(inner) as Storage, {
      async put(name: string, data: Uint8Array, options?: PutOptions) {
        if (!name.startsWith('data/')) return inner.put(name, data, options);
        const n = ++dataPuts;
        if (n === 2) throw new StorageFullError(inner.location, name);
        pending++;
        try {
          if (n === 1) await new Promise((r) => setTimeout(r, 1500));
          await inner.put(name, data, options);
          events.push(`pack ${n} stored`);
        } finally {
          pending--;
        }
      },
    });
    const repo = await initRepo(repoDir, { packSize: 512 * 1024 }, storage);
    const err = await rejectionOf(backupFiles(repo, walkFiles([src]), { paths: [src], workers: 1 }));
    events.push('backup returned');
    expect(err).toBeInstanceOf(StorageFullError);
    expect(pending).toBe(0);
    expect(events).toContain('pack 1 stored');
    expect(events[events.length - 1]).toBe('backup returned');
    expect(objectsOf(repoDir, 'locks')).toEqual([]);
  });
});

describe('a backup killed with SIGKILL', () => {
  it('leaves no snapshot; the next backup reuses its indexed packs, check is clean and prune removes the rest', async () => {
    const base = tempDir('kill');
    const src = randomTree(join(base, 'src'), [100, 100, 100], 'killed backup');
    const total = 300 * MiB;
    const repoDir = join(base, 'repo');
    await initRepo(repoDir);
    const marker = join(base, 'first-index-written');

    // The child backs up for real; once its first index object is durable (after 16 packs)
    // it says so and slows its writes, so the kill lands mid-backup, never after the snapshot.
    const { child, output, exited } = runChild(
      'killed-backup',
      `const [repoDir, src, marker] = args;
const inner = openStorage(repoDir);
let indexed = false;
const storage = new Proxy(inner, {
  get(target, prop) {
    if (prop === 'put') {
      return async (name, data, options) => {
        if (indexed) await new Promise((r) => setTimeout(r, 1000));
        await target.put(name, data, options);
        if (name.startsWith('index/') && !indexed) { indexed = true; fs.writeFileSync(marker, name); }
      };
    }
    const value = target[prop];
    return typeof value === 'function' ? value.bind(target) : value;
  },
});
const repo = await Repository.open(storage, ${JSON.stringify(PASSWORD)});
await backupFiles(repo, walkFiles([src]), { paths: [src] });
console.log('the backup finished: it should have been killed');`,
      [repoDir, src, marker],
    );
    await waitFor('its first index object', () => existsSync(marker), exited, output);
    child.kill('SIGKILL');
    expect(await exited).toEqual({ code: null, signal: 'SIGKILL' });

    const packsLeft = objectsOf(repoDir, 'data').length;
    expect(packsLeft).toBeGreaterThanOrEqual(16);
    expect(objectsOf(repoDir, 'index').length).toBe(1);
    expect(objectsOf(repoDir, 'snapshots')).toEqual([]);
    expect(objectsOf(repoDir, 'locks')).toHaveLength(1); // the dead process's lock

    const repo = await openRepo(repoDir);
    const before = await checkRepository(repo, { readDataPercent: 100 });
    expect(before.errors).toEqual([]);

    const next = await backupFiles(repo, walkFiles([src]), { paths: [src] });
    expect(next.snapshot.parent).toBeUndefined();
    expect(next.snapshot.stats.bytesRead).toBe(total);
    // The 16 indexed packs (256 MiB) are reused; only the rest is stored again.
    expect(next.snapshot.stats.bytesNew).toBeLessThan(total - 200 * MiB);
    expect((await repo.listSnapshots()).map((s) => s.id)).toEqual([next.snapshotId]);

    const check = await checkRepository(await openRepo(repoDir), { readDataPercent: 100 });
    expect(check.errors).toEqual([]);
    // Packs uploaded after the index object but never indexed, if the kill left any.
    for (const note of check.notes) expect(note).toMatch(/^\d+ pack\(s\) are in no index \(left by an interrupted backup; prune removes them\)$/);

    expect(objectsOf(repoDir, 'locks')).toHaveLength(1); // backups take no notice of other locks
    expect(await pruneRepository(repo)).toMatchObject({ packsPending: 0 }); // nothing waits for a dead writer
    expect(objectsOf(repoDir, 'locks')).toEqual([]); // its stale lock was cleared on the way
    expect(await checkRepository(await openRepo(repoDir))).toMatchObject({ errors: [], notes: [] });
    const target = join(base, 'restore');
    expect((await restoreSnapshot(repo, next.snapshot, { target })).errors).toEqual([]);
    expectSameTree(src, target);
  });
});

describe('messages a user acts on', () => {
  let base: string;
  let repoDir: string;
  let repo: Repository;

  beforeAll(async () => {
    base = tempDir('messages');
    repoDir = join(base, 'repo');
    repo = await initRepo(repoDir);
  });

  it('a wrong password', async () => {
    const err = await rejectionOf(Repository.open(openStorage(repoDir), 'not the password'));
    expect(err).toBeInstanceOf(WrongPasswordError);
    expect(err.message).toBe(`wrong password: no key of the repository at ${repoDir} opens with it`);
  });

  it('a location that holds no repository', async () => {
    const empty = join(base, 'empty');
    mkdirSync(empty);
    for (const dir of [empty, join(base, 'missing')]) {
      const err = await rejectionOf(Repository.open(openStorage(dir), PASSWORD));
      expect(err).toBeInstanceOf(NotARepositoryError);
      expect(err.message).toBe(`${dir} is not a Coffer repository (it has no config)`);
    }
    writeFileSync(join(empty, 'config'), 'some other program: setting=1\n');
    const err = await rejectionOf(Repository.open(openStorage(empty), PASSWORD));
    expect(err).toBeInstanceOf(NotARepositoryError);
    expect(err.message).toBe(`${empty} is not a Coffer repository (its config is not one)`);
  });

  it('init where a repository already is, which leaves it untouched', async () => {
    const keysBefore = objectsOf(repoDir, 'keys');
    const err = await rejectionOf(Repository.init(openStorage(repoDir), 'other', { scrypt: FAST_SCRYPT }));
    expect(err).toBeInstanceOf(RepositoryExistsError);
    expect(err.message).toBe(`a repository already exists at ${repoDir}`);
    expect(objectsOf(repoDir, 'keys')).toEqual(keysBefore);
    expect((await openRepo(repoDir)).config.id).toBe(repo.config.id);
  });

  it('"latest" in a repository without snapshots', async () => {
    const err = await rejectionOf(repo.findSnapshot('latest'));
    expect(err).toBeInstanceOf(SnapshotNotFoundError);
    expect(err.message).toBe(`no snapshot in ${repoDir} matches "latest"`);
  });

  it('a snapshot id that matches nothing, is not an id, or is ambiguous', async () => {
    const { snapshotId, snapshot } = await backupStream(repo, Readable.from([Buffer.from('data')]), 'x.txt');
    const unknown = snapshotId.startsWith('abcd') ? 'dcba' : 'abcd';
    const cases: Array<[string, string]> = [
      [unknown, `no snapshot ${unknown} in ${repoDir}`],
      ['xyz', '"xyz" is not a snapshot id (give "latest" or at least 4 hex digits of an id)'],
      ['abc', '"abc" is not a snapshot id (give "latest" or at least 4 hex digits of an id)'],
    ];
    for (const [ref, message] of cases) {
      const err = await rejectionOf(repo.findSnapshot(ref));
      expect(err).toBeInstanceOf(SnapshotNotFoundError);
      expect(err.message).toBe(message);
    }

    // Snapshot objects are named by the hash of their sealed bytes, so sealing the same
    // snapshot again gives a new id: seal until two ids share their first 4 digits.
    const byPrefix = new Map<string, Buffer>();
    const { createHash } = await import('node:crypto');
    let pair: [string, Buffer, string, Buffer] | undefined;
    while (!pair) {
      const bytes = sealToPublic(repo.master.readPublicKey, Buffer.from(JSON.stringify(snapshot)), 'snapshot');
      const id = createHash('sha256').update(bytes).digest('hex');
      const twin = byPrefix.get(id.slice(0, 4));
      if (twin) pair = [createHash('sha256').update(twin).digest('hex'), twin, id, bytes];
      else byPrefix.set(id.slice(0, 4), bytes);
    }
    await repo.storage.put(`snapshots/${pair[0]}`, pair[1]);
    await repo.storage.put(`snapshots/${pair[2]}`, pair[3]);
    const prefix = pair[0].slice(0, 4);
    const err = await rejectionOf(repo.findSnapshot(prefix));
    expect(err).toBeInstanceOf(SnapshotNotFoundError);
    expect(err.message).toBe(`snapshot id ${prefix} is ambiguous (2 snapshots start with it): give more digits`);
    expect((await repo.findSnapshot(pair[2].slice(0, 12))).id).toBe(pair[2]);
    for (const id of [pair[0], pair[2]]) await repo.storage.delete(`snapshots/${id}`);
  });

  it('a write-only key backs up, but cannot read anything back', async () => {
    await repo.addKey('append only', { writeOnly: true });
    const client = await Repository.open(openStorage(repoDir), 'append only');
    expect(client.canRead).toBe(false);
    const content = Buffer.from('written by a client that must not read old backups\n');
    const { snapshotId, snapshot } = await backupStream(client, Readable.from([content]), 'client.txt');

    const refusals: Array<[string, () => Promise<unknown>]> = [
      ['list', () => client.listSnapshots()],
      ['find', () => client.findSnapshot('latest')],
      ['restore', () => restoreSnapshot(client, snapshot, { target: join(base, 'wo-restore') })],
      ['check', () => checkRepository(client)],
      ['prune', () => pruneRepository(client)],
      ['forget', () => forgetSnapshots(client, { keepLast: 1 })],
    ];
    for (const [what, op] of refusals) {
      const err = await rejectionOf(op());
      expect([what, err]).toEqual([what, expect.any(WriteOnlyKeyError)]);
      expect(err.message).toBe('this key can write but not read: use a full key to list, restore or verify data');
    }
    const err = await rejectionOf(client.addKey('full'));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('a write-only key can only add write-only keys');
    expect(objectsOf(repoDir, 'locks')).toEqual([]);

    // A full key reads what the write-only one wrote.
    const out = collector();
    await dumpFile(repo, (await repo.findSnapshot(snapshotId)).snapshot, '/client.txt', out);
    expect(out.bytes().equals(content)).toBe(true);
  });

  it('a changed password: the old one no longer opens, and the key in use cannot be removed', async () => {
    const other = await Repository.open(openStorage(repoDir), PASSWORD);
    const err = await rejectionOf(other.removeKey(other.keyId.slice(0, 8)));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('refusing to remove the key in use: open the repository with another password to remove this one');
    const newKey = await other.changePassword('a new password');
    await expect(Repository.open(openStorage(repoDir), PASSWORD)).rejects.toThrow(`wrong password: no key of the repository at ${repoDir} opens with it`);
    const reopened = await Repository.open(openStorage(repoDir), 'a new password');
    expect(reopened.keyId).toBe(newKey);
    await reopened.addKey(PASSWORD);
    await expect(openRepo(repoDir)).resolves.toBeInstanceOf(Repository);
  });

  it('forget without any keep rule', async () => {
    for (const rules of [{}, { keepLast: 0 }]) {
      const err = await rejectionOf(forgetSnapshots(repo, rules));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe('no keep rule given: refusing to forget every snapshot (use --keep-last, --keep-daily, …)');
    }
    expect((await repo.listSnapshotIds()).length).toBeGreaterThan(0);
  });
});

describe('locks', () => {
  it('prune and forget exclude each other, with a message naming the holder; backups run beside them', async () => {
    const base = tempDir('lock');
    const src = randomTree(join(base, 'src'), [1], 'lock');
    const repoDir = join(base, 'repo');
    const repo = await initRepo(repoDir);
    const lock = await acquireLock(repo, 'prune', true);
    try {
      const err = await rejectionOf(forgetSnapshots(repo, { keepLast: 1 }));
      expect(err).toBeInstanceOf(RepositoryLockedError);
      expect(err.message).toMatch(
        new RegExp(
          `^${escape(repoDir)} is locked exclusively by prune \\(pid ${process.pid} on ${escape(hostname())}, since \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\); ` +
            `wait for it to finish, or if that process is gone run "coffer repo unlock"$`,
        ),
      );
      await expect(pruneRepository(repo)).rejects.toBeInstanceOf(RepositoryLockedError);
      const backup = await backupFiles(repo, walkFiles([src]), { paths: [src] });
      expect(backup.snapshot.stats.files).toBe(1);
    } finally {
      await lock.release();
    }
    expect(objectsOf(repoDir, 'locks')).toEqual([]);
  });

  it('a prune lock held by another live process blocks prune; once that process is killed, its stale lock is cleared automatically', async () => {
    const base = tempDir('lock-child');
    const repoDir = join(base, 'repo');
    const repo = await initRepo(repoDir);
    const { child, output, exited } = runChild(
      'holds-lock',
      `const repo = await Repository.open(openStorage(args[0]), ${JSON.stringify(PASSWORD)});
await acquireLock(repo, 'prune', true);
console.log('locked');
setInterval(() => undefined, 1000);`,
      [repoDir],
    );
    try {
      await waitFor('the lock', () => output().includes('locked'), exited, output);
      const err = await rejectionOf(pruneRepository(repo));
      expect(err).toBeInstanceOf(RepositoryLockedError);
      expect(err.message).toContain(`is locked exclusively by prune (pid ${child.pid} on ${hostname()}`);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect(objectsOf(repoDir, 'locks')).toHaveLength(1);
    await pruneRepository(repo);
    expect(objectsOf(repoDir, 'locks')).toEqual([]);
    expect(readdirSync(join(repoDir, 'locks'))).toEqual([]);
  });

  it('a backup with credentials that cannot delete marks its lock finished, and the next maintenance removes it', async () => {
    const base = tempDir('lock-nodelete');
    const src = randomTree(join(base, 'src'), [1], 'no delete');
    const repoDir = join(base, 'repo');
    await initRepo(repoDir);
    const writer = new FaultInjectingStorage(openStorage(repoDir)).denyDeletes();
    const repo = await Repository.open(writer, PASSWORD);
    const result = await backupFiles(repo, walkFiles([src]), { paths: [src] });
    expect(result.snapshot.stats.files).toBe(1);
    expect(objectsOf(repoDir, 'locks')).toHaveLength(1);
    // A prune by a host with full rights is not held up by it, and clears it.
    const full = await openRepo(repoDir);
    const pruned = await pruneRepository(full);
    expect(pruned.packsPending).toBe(0);
    expect(objectsOf(repoDir, 'locks')).toEqual([]);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
