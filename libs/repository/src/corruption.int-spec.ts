/**
 * Damage to any stored object is noticed: one flipped byte anywhere in any object makes either
 * opening the repository or `check --read-data` fail, naming the object. A damaged file fails
 * its restore loudly without taking the other files with it.
 */
import { existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openStorage } from '@coffer/storage';
import { backupFiles } from './backup/backup-files';
import type { BackupResult } from './backup/backup-session';
import { checkRepository } from './check/check-repository';
import { IntegrityError } from './crypto/envelope';
import { WrongPasswordError } from './errors';
import { Repository } from './repository';
import { restoreSnapshot } from './restore/restore-snapshot';
import { dumpFile } from './restore/snapshot-tree';
import {
  ByteStream,
  collector,
  diffTrees,
  flipByte,
  initRepo,
  MiB,
  objectsOf,
  openRepo,
  PASSWORD,
  rejectionOf,
  removeTempDirs,
  snapshotTree,
  storedObjects,
  StoredObject,
  tempDir,
  walkFiles,
} from './test-support/integration';

let base: string;
let src: string;
let repoDir: string;
let snapshots: BackupResult[];

beforeAll(async () => {
  base = tempDir('corruption');
  src = join(base, 'src');
  repoDir = join(base, 'repo');
  mkdirSync(src);
  writeFileSync(join(src, 'notes.txt'), 'first version of the notes\n');
  writeFileSync(join(src, 'photo.bin'), new ByteStream('photo').next(2 * MiB));
  writeFileSync(join(src, 'settings.yaml'), 'retention: 30d\n'.repeat(100));
  const repo = await initRepo(repoDir);
  const s1 = await backupFiles(repo, walkFiles([src]), { paths: [src] });
  writeFileSync(join(src, 'notes.txt'), 'second version of the notes\n');
  writeFileSync(join(src, 'added.bin'), new ByteStream('added').next(MiB + 12345));
  const s2 = await backupFiles(repo, walkFiles([src]), { paths: [src] });
  snapshots = [s1, s2];
});

afterAll(() => removeTempDirs());

type Outcome = { opened: false; error: Error } | { opened: true; errors: string[] };

/** What a user finds: opening fails, or check --read-data reports errors. */
async function examine(): Promise<Outcome> {
  let repo: Repository;
  try {
    repo = await openRepo(repoDir);
  } catch (error) {
    return { opened: false, error: error as Error };
  }
  const check = await checkRepository(repo, { readDataPercent: 100, workers: 1 });
  return { opened: true, errors: check.errors };
}

/** The messages check must give for one damaged object (besides any others). */
function expectedCheckError(obj: StoredObject): string | RegExp | undefined {
  switch (obj.kind) {
    case 'snapshots':
      return `snapshot ${obj.id}: snapshot ${obj.id} does not match its name (corrupted)`;
    case 'index':
      return `index ${obj.id} does not match its name (corrupted)`;
    case 'data':
      return `pack ${obj.id}: contents do not match its name (corrupted)`;
    case 'keys':
      return new RegExp(`^key keys/${obj.id} metadata `);
    default:
      return undefined;
  }
}

describe('a flipped byte in a stored object', () => {
  it('is found in every object at its first, middle and last byte, naming the object', async () => {
    const objects = storedObjects(repoDir);
    // Everything a repository holds at rest: config, the only key, 2 indexes, 2 snapshots, packs.
    expect(objects.filter((o) => o.kind === 'config')).toHaveLength(1);
    expect(objects.filter((o) => o.kind === 'keys')).toHaveLength(1);
    expect(objects.filter((o) => o.kind === 'index')).toHaveLength(2);
    expect(objects.filter((o) => o.kind === 'snapshots')).toHaveLength(2);
    expect(objects.filter((o) => o.kind === 'data').length).toBeGreaterThanOrEqual(2);
    expect(objects.filter((o) => o.kind === 'locks')).toHaveLength(0);
    for (const o of objects) expect(statSync(o.path).mode & 0o777).toBe(0o444);

    const undetected: string[] = [];
    const seen: string[] = [];
    for (const obj of objects) {
      for (const offset of [0, Math.floor(obj.size / 2), obj.size - 1]) {
        const undo = flipByte(obj.path, offset);
        let outcome: Outcome;
        try {
          outcome = await examine();
        } finally {
          undo();
        }
        const where = `${obj.name} @${offset}/${obj.size}`;
        if (!outcome.opened) {
          seen.push(`${where}: open fails: ${outcome.error.message}`);
          // Only the objects needed to open may stop it, and the message says which one.
          const named = obj.kind === 'config' ? /config/.test(outcome.error.message) : outcome.error.message.includes(obj.id);
          if (!(obj.kind === 'config' || obj.kind === 'keys') || !named) undetected.push(`${where}: open failed without naming it: ${outcome.error.message}`);
          continue;
        }
        seen.push(`${where}: check: ${outcome.errors.join(' | ')}`);
        if (obj.kind === 'config') {
          undetected.push(`${where}: the repository still opens`);
          continue;
        }
        if (!outcome.errors.some((e) => e.includes(obj.id))) {
          undetected.push(`${where}: check does not name it: ${JSON.stringify(outcome.errors)}`);
          continue;
        }
        const want = expectedCheckError(obj);
        if (want !== undefined && !outcome.errors.some((e) => (typeof want === 'string' ? e === want : want.test(e)))) {
          undetected.push(`${where}: check lacks ${String(want)}: ${JSON.stringify(outcome.errors)}`);
        }
      }
    }
    if (process.env.COFFER_TEST_VERBOSE) console.log(seen.join('\n'));
    expect(undetected).toEqual([]);
    // Every byte restored: the repository is whole again.
    const after = await examine();
    expect(after).toEqual({ opened: true, errors: [] });
  });

  it('in the config stops the repository from opening with a message naming the config', async () => {
    const [config] = objectsOf(repoDir, 'config');
    const undo = flipByte(config.path, Math.floor(config.size / 2));
    try {
      const err = await rejectionOf(openRepo(repoDir));
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err.message).toBe('config failed authentication (corrupted, or written with another key)');
    } finally {
      undo();
    }
  });

  it('in the only key stops the repository from opening with a message naming the damaged key', async () => {
    const [key] = objectsOf(repoDir, 'keys');
    const undo = flipByte(key.path, 0);
    try {
      const err = await rejectionOf(openRepo(repoDir));
      expect(err).toBeInstanceOf(WrongPasswordError);
      expect(err.message).toBe(
        `no key of the repository at ${repoDir} opens with this password, and 1 could not be tried: key file keys/${key.id} is not valid JSON (corrupted)`,
      );
    } finally {
      undo();
    }
  });

  it('in one of two keys still opens with the other, and check names the damaged one', async () => {
    const repo = await openRepo(repoDir);
    const second = await repo.addKey('another password');
    try {
      const [first] = objectsOf(repoDir, 'keys').filter((k) => k.id !== second);
      const undo = flipByte(first.path, Math.floor(first.size / 2));
      try {
        const other = await Repository.open(openStorage(repoDir), 'another password');
        const check = await checkRepository(other, { workers: 1 });
        expect(check.errors).toEqual([expect.stringContaining(`keys/${first.id}`)]);
      } finally {
        undo();
      }
    } finally {
      await repo.storage.delete(`keys/${second}`);
    }
    expect((await openRepo(repoDir)).keyId).toBe(objectsOf(repoDir, 'keys')[0].id);
    await expect(Repository.open(openStorage(repoDir), PASSWORD)).resolves.toBeInstanceOf(Repository);
  });
});

describe('a truncated pack', () => {
  it('is named by check, even without reading data', async () => {
    const pack = await packOf('added.bin');
    const obj = objectsOf(repoDir, 'data').find((o) => o.id === pack)!;
    const original = readFileSync(obj.path);
    chmodSync(obj.path, 0o644);
    truncateSync(obj.path, Math.floor(obj.size / 2));
    try {
      const repo = await openRepo(repoDir);
      const structure = await checkRepository(repo, { workers: 1 });
      expect(structure.errors).toContain(`pack ${pack} is ${Math.floor(obj.size / 2)} bytes in storage but ${obj.size} in the index (truncated or damaged)`);
      // The listings stored at the end of that pack are gone too: named with the pack.
      expect(structure.errors.every((e) => e.includes(pack))).toBe(true);
      const full = await checkRepository(repo, { readDataPercent: 100, workers: 1 });
      expect(full.errors).toEqual(expect.arrayContaining([`pack ${pack} is ${Math.floor(obj.size / 2)} bytes in storage but ${obj.size} in the index (truncated or damaged)`]));
      expect(full.errors.every((e) => e.includes(pack))).toBe(true);
    } finally {
      writeFileSync(obj.path, original);
      chmodSync(obj.path, 0o444);
    }
  });
});

describe('restoring a snapshot with one damaged file', () => {
  it('fails that file loudly, restores the others byte for byte', async () => {
    const repo = await openRepo(repoDir);
    const index = await repo.loadIndex();
    const node = await fileNode(repo, 'added.bin');
    const loc = index.get(node.content![0])!;
    const obj = objectsOf(repoDir, 'data').find((o) => o.id === loc.packId)!;
    const undo = flipByte(obj.path, loc.offset + Math.floor(loc.length / 2));
    try {
      const target = join(base, 'restore-damaged');
      const result = await restoreSnapshot(repo, snapshots[1].snapshot, { target });
      expect(result.errors).toEqual([`${src}/added.bin: blob ${node.content![0]} in pack ${loc.packId} failed authentication (corrupted, or written with another key)`]);
      expect(result.files).toBe(3);
      expect(existsSync(join(target, src, 'added.bin'))).toBe(false);
      const want = snapshotTree(src);
      want.delete('added.bin');
      const got = snapshotTree(join(target, src));
      expect(diffTrees(want, got)).toEqual([]);

      const err = await rejectionOf(dumpFile(repo, snapshots[1].snapshot, `${src}/added.bin`, collector()));
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err.message).toBe(`blob ${node.content![0]} in pack ${loc.packId} failed authentication (corrupted, or written with another key)`);
    } finally {
      undo();
    }
    const out = collector();
    await dumpFile(repo, snapshots[1].snapshot, `${src}/added.bin`, out);
    expect(out.bytes().equals(readFileSync(join(src, 'added.bin')))).toBe(true);
  });
});

async function fileNode(repo: Repository, name: string) {
  const { findNode } = await import('./restore/snapshot-tree');
  return findNode(repo, snapshots[1].snapshot, `${src}/${name}`);
}

async function packOf(name: string): Promise<string> {
  const repo = await openRepo(repoDir);
  const node = await fileNode(repo, name);
  return (await repo.loadIndex()).get(node.content![0])!.packId;
}

describe('a damaged snapshot', () => {
  it('does not stop the next backup: it is skipped as a parent, with a warning', async () => {
    const damaged = objectsOf(repoDir, 'snapshots').find((o) => o.id === snapshots[1].snapshotId)!;
    const undo = flipByte(damaged.path, 40);
    const repo = await openRepo(repoDir);
    const warnings: string[] = [];
    let next: BackupResult;
    try {
      next = await backupFiles(repo, walkFiles([src]), { paths: [src], onWarning: (w) => warnings.push(w) });
    } finally {
      undo();
    }
    const expected = `snapshot ${damaged.id} does not match its name (corrupted): not used as a parent (run check)`;
    expect(warnings).toEqual([expected]);
    expect(next.snapshot.warnings).toEqual([expected]);
    // The newest readable snapshot of these paths is the parent instead.
    expect(next.snapshot.parent).toBe(snapshots[0].snapshotId);
    const target = join(base, 'restore-after-damage');
    expect((await restoreSnapshot(repo, next.snapshot, { target })).errors).toEqual([]);
    expect(diffTrees(snapshotTree(src), snapshotTree(join(target, src)))).toEqual([]);
    await repo.storage.delete(`snapshots/${next.snapshotId}`);
  });
});
