/**
 * Round trips through a real repository on disk: everything a backup records comes back
 * byte for byte, with its metadata; incremental backups read and store only what changed.
 */
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { backupFiles } from './backup/backup-files';
import { BackupSession } from './backup/backup-session';
import { backupStream } from './backup/backup-stream';
import { IntegrityError } from './crypto/envelope';
import { UsageError } from './errors';
import { BlobType } from './format/pack';
import { decodeTree, encodeTree, TreeNode } from './format/tree';
import type { Repository } from './repository';
import { restoreSnapshot } from './restore/restore-snapshot';
import { dumpFile, findNode, listSnapshot } from './restore/snapshot-tree';
import { checkRepository } from './check/check-repository';
import type { BackupResult } from './backup/backup-session';
import {
  ByteStream,
  collector,
  diffTrees,
  EntryFacts,
  initRepo,
  isRoot,
  openRepo,
  MiB,
  rejectionOf,
  removeTempDirs,
  sha256File,
  snapshotTree,
  tempDir,
  walkFiles,
  writeStreamFile,
} from './test-support/integration';

const BIG_SIZE = 200 * MiB;
const BIG_SEED = 'big file';
/** 10 × 10 directories of 100 files. */
const SMALL_DIRS = 10;
const SMALL_FILES = 100;

/** Weird but legal names, each one a file of the source tree. */
const ODD_NAMES = ['Ünïcødé 文件 🎉.txt', 'with  spaces\tand tab .txt', ' leading space', 'trailing space ', '-dash', 'new\nline', 'caf\u00e9', 'cafe\u0301'];

let base: string;
let src: string;
let repo: Repository;
let first: BackupResult;
let firstTree: Map<string, EntryFacts>;
const notes: string[] = [];
const warnings: string[] = [];

/**
 * Whole-millisecond times, as seconds for utimes: what tar, rsync -t and most tools set. (Node
 * hands utimes a double and libuv truncates it to microseconds, so without the half
 * microsecond about half of them would land 1 µs early, in the millisecond before.)
 */
function msTime(i: number): number {
  return exactly(Date.UTC(2021, 5, 1, 12, 0, 0) + i * 1_001 + (i % 1000));
}
function exactly(ms: number): number {
  return (ms * 1000 + 0.5) / 1e6;
}
const DANGLING_MTIME = Date.UTC(1999, 11, 31, 23, 59, 59, 999);

function buildSource(root: string): void {
  mkdirSync(root);
  writeFileSync(join(root, 'empty.txt'), '');
  mkdirSync(join(root, 'empty-dir'), { mode: 0o750 });
  mkdirSync(join(root, 'nested/empty/deeper'), { recursive: true });

  mkdirSync(join(root, 'docs'));
  writeFileSync(join(root, 'docs/readme.md'), '# Coffer\n\nbacked up and restored byte for byte\n');
  writeFileSync(join(root, 'docs/script.sh'), '#!/bin/sh\necho hi\n', { mode: 0o755 });
  writeFileSync(join(root, 'docs/secret.key'), 'top secret\n', { mode: 0o600 });
  writeFileSync(join(root, 'docs/setuid-tool'), 'pretend binary', { mode: 0o755 });
  chmodSync(join(root, 'docs/setuid-tool'), 0o4755);
  mkdirSync(join(root, 'sticky'));
  chmodSync(join(root, 'sticky'), 0o1777);
  writeFileSync(join(root, 'sticky/tmpfile'), 'x');
  mkdirSync(join(root, 'read-only'));
  writeFileSync(join(root, 'read-only/inside'), 'in a directory nobody may write to\n', { mode: 0o444 });
  chmodSync(join(root, 'read-only'), 0o555);

  mkdirSync(join(root, 'links'));
  symlinkSync('../docs/readme.md', join(root, 'links/to-readme'));
  symlinkSync(join(root, 'docs/readme.md'), join(root, 'links/absolute'));
  symlinkSync('does/not/exist', join(root, 'links/dangling'));
  symlinkSync('../docs', join(root, 'links/to-dir'));
  symlinkSync('Ünïcødé target', join(root, 'links/unicode-dangling'));

  for (const [i, name] of ODD_NAMES.entries()) writeFileSync(join(root, name), `odd name ${i}: ${name}\n`);

  // Three names, one inode; and a file with one name.
  mkdirSync(join(root, 'hard'));
  mkdirSync(join(root, 'other-dir'));
  writeFileSync(join(root, 'hard/a'), 'shared by three names\n');
  linkSync(join(root, 'hard/a'), join(root, 'hard/b'));
  linkSync(join(root, 'hard/a'), join(root, 'other-dir/c'));
  writeFileSync(join(root, 'hard/solo'), 'alone\n');

  // A FIFO is skipped (with a note), never restored.
  execFileSync('mkfifo', [join(root, 'a-fifo')]);

  writeStreamFile(join(root, 'big.bin'), BIG_SIZE, new ByteStream(BIG_SEED, 0.5));

  const bytes = new ByteStream('small files', 0.3).next(SMALL_DIRS * SMALL_DIRS * SMALL_FILES * 8);
  let n = 0;
  for (let d = 0; d < SMALL_DIRS; d++) {
    for (let s = 0; s < SMALL_DIRS; s++) {
      const dir = join(root, 'many', `d${pad(d, 2)}`, `s${pad(s, 2)}`);
      mkdirSync(dir, { recursive: true });
      for (let f = 0; f < SMALL_FILES; f++, n++) {
        const path = join(dir, `f${pad(n, 5)}.txt`);
        // Every 50th file has the same content: deduplicated within the backup.
        writeFileSync(path, n % 50 === 0 ? 'the same content in many files\n' : bytes.subarray(n * 8, n * 8 + (n % 997)));
        utimesSync(path, msTime(n), msTime(n));
      }
    }
  }

  if (isRoot) {
    chownSync(join(root, 'docs/secret.key'), 1234, 5678);
    chownSync(join(root, 'empty-dir'), 4321, 4321);
    lchownSync(join(root, 'links/dangling'), 2222, 3333);
  }
  // Metadata last, deepest first, so nothing touches it afterwards.
  utimesSync(join(root, 'empty.txt'), msTime(1), msTime(2));
  utimesSync(join(root, 'docs/readme.md'), msTime(3), msTime(4));
  lutimesSync(join(root, 'links/to-readme'), msTime(5), msTime(6));
  lutimesSync(join(root, 'links/dangling'), msTime(7), exactly(DANGLING_MTIME));
  for (const dir of ['nested/empty/deeper', 'nested/empty', 'nested', 'empty-dir', 'docs', 'links', 'many/d03/s07', 'many/d03']) {
    utimesSync(join(root, dir), msTime(8), exactly(Date.UTC(2010, 0, 2, 3, 4, 5, 678)));
  }
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** The restored copy of `src` under a restore target. */
const restoredRoot = (target: string) => join(target, src);

beforeAll(async () => {
  base = tempDir('roundtrip');
  src = join(base, 'src');
  buildSource(src);
  firstTree = snapshotTree(src);
  firstTree.delete('a-fifo');
  expect(lstatSync(join(src, 'links/dangling'), { bigint: true }).mtimeNs).toBe(BigInt(DANGLING_MTIME) * 1_000_000n);
  repo = await initRepo(join(base, 'repo'));
  first = await backupFiles(repo, walkFiles([src]), { paths: [src], onNote: (m) => notes.push(m), onWarning: (m) => warnings.push(m) });
}, 120_000);

afterAll(() => removeTempDirs());

describe('a files backup', () => {
  it('records every file, directory and symlink, skipping a FIFO with a note rather than a warning', () => {
    const s = first.snapshot.stats;
    const smallFiles = SMALL_DIRS * SMALL_DIRS * SMALL_FILES;
    // empty, 4 in docs, sticky/tmpfile, read-only/inside, odd names, hard/a b solo, other-dir/c, big, small files
    expect(s.files).toBe(1 + 4 + 1 + 1 + ODD_NAMES.length + 3 + 1 + 1 + smallFiles);
    expect(s.bytesRead).toBe(s.totalBytes);
    expect(notes).toEqual([`${join(src, 'a-fifo')}: skipped FIFO`]);
    expect(warnings).toEqual([]);
    expect(first.snapshot.warnings).toEqual([]);
    expect(first.snapshot.paths).toEqual([src]);
    expect(first.snapshot.sourceKind).toBe('files');
  });

  it('restores byte for byte with modes, mtimes (ms), symlinks, hard links' + (isRoot ? ' and owners' : ''), async () => {
    const target = join(base, 'restore-full');
    const result = await restoreSnapshot(repo, first.snapshot, { target });
    expect(result.errors).toEqual([]);
    expect(result.files).toBe(first.snapshot.stats.files);
    expect(result.symlinks).toBe(5);
    // The two extra names of hard/a are linked, not written again.
    expect(result.bytes).toBe(first.snapshot.stats.totalBytes - 2 * firstTree.get('hard/a')!.size!);

    const restored = snapshotTree(restoredRoot(target));
    expect(diffTrees(firstTree, restored, { owners: isRoot })).toEqual([]);
    // Spot checks a reader of the diff would look for first.
    expect(restored.get('big.bin')!.sha256).toBe(firstTree.get('big.bin')!.sha256);
    expect(restored.get('hard/a')!.nlink).toBe(3);
    expect(restored.get('hard/a')!.ino).toBe(restored.get('other-dir/c')!.ino);
    expect(restored.get('links/dangling')).toMatchObject({ type: 'symlink', target: 'does/not/exist', mtimeMs: BigInt(DANGLING_MTIME) });
    expect(restored.get('docs/setuid-tool')!.mode).toBe(0o4755);
    expect(restored.get('sticky')!.mode).toBe(0o1777);
    expect(restored.get('read-only')!.mode).toBe(0o555);
    for (const name of ODD_NAMES) expect(readFileSync(join(restoredRoot(target), name), 'utf8')).toBe(readFileSync(join(src, name), 'utf8'));
    // The root directory itself keeps its metadata too.
    const [a, b] = [lstatSync(src, { bigint: true }), lstatSync(restoredRoot(target), { bigint: true })];
    expect([b.mode, b.mtimeNs / 1_000_000n]).toEqual([a.mode, a.mtimeNs / 1_000_000n]);
  });

  it('reads nothing on a second backup when nothing changed', async () => {
    const again = await backupFiles(repo, walkFiles([src]), { paths: [src] });
    expect(again.snapshot.parent).toBe(first.snapshotId);
    expect(again.snapshot.stats).toMatchObject({ files: first.snapshot.stats.files, totalBytes: first.snapshot.stats.totalBytes, bytesRead: 0 });
    // Only listings of the directories above the root (their mtimes move) may be new.
    expect(again.snapshot.stats.bytesNew).toBeLessThan(16 * 1024);
    expect(again.snapshot.tree === first.snapshot.tree || again.snapshot.stats.bytesNew > 0).toBe(true);
  });

  it('reads only the touched file, and stores none of its content again, after its mtime changed', async () => {
    const path = join(src, 'many/d02/s05/f02599.txt');
    const size = lstatSync(path).size;
    expect(size).toBeGreaterThan(100);
    utimesSync(path, exactly(Date.UTC(2024, 1, 29)), exactly(Date.UTC(2024, 1, 29)));
    const next = await backupFiles(repo, walkFiles([src]), { paths: [src] });
    expect(next.snapshot.stats.bytesRead).toBe(size);
    // Same content, same blobs: only the listings on the way to it are new (its directory
    // lists 100 files, about 38 KB of JSON).
    const before = await findNode(repo, first.snapshot, path);
    const after = await findNode(repo, next.snapshot, path);
    expect(after.content).toEqual(before.content);
    expect(after.mtime).not.toBe(before.mtime);
    expect(next.snapshot.stats.bytesNew).toBeLessThan(64 * 1024);
  });

  it('reads only the changed file after one small file changed', async () => {
    const path = join(src, 'many/d04/s02/f04217.txt');
    const content = 'this file was changed after the first backup\n';
    writeFileSync(path, content);
    const next = await backupFiles(repo, walkFiles([src]), { paths: [src] });
    expect(next.snapshot.stats.bytesRead).toBe(Buffer.byteLength(content));
    expect(next.snapshot.stats.bytesNew).toBeGreaterThanOrEqual(Buffer.byteLength(content));
    expect(next.snapshot.stats.bytesNew).toBeLessThan(64 * 1024);

    const out = collector();
    expect(await dumpFile(repo, next.snapshot, `${src}/many/d04/s02/f04217.txt`, out)).toBe(Buffer.byteLength(content));
    expect(out.bytes().toString()).toBe(content);
  });

  it('stores only a small fraction after bytes are inserted at the start of the 200 MiB file', async () => {
    const prefix = Buffer.from('a few new bytes at the very start of the file\n'.repeat(3));
    const hash = writeStreamFile(join(src, 'big.bin'), BIG_SIZE, new ByteStream(BIG_SEED, 0.5), prefix);
    const next = await backupFiles(repo, walkFiles([src]), { paths: [src] });
    expect(next.snapshot.stats.bytesRead).toBe(BIG_SIZE + prefix.length);
    // Content-defined chunks: only the chunk(s) around the insertion are new.
    expect(next.snapshot.stats.bytesNew).toBeLessThan(BIG_SIZE * 0.05);

    const target = join(base, 'restore-big');
    const result = await restoreSnapshot(repo, next.snapshot, { target, include: ['big.bin'] });
    expect(result).toMatchObject({ errors: [], files: 1, bytes: BIG_SIZE + prefix.length });
    expect(sha256File(join(restoredRoot(target), 'big.bin'))).toBe(hash);
  });

  it('restores only what the include patterns match', async () => {
    const target = join(base, 'restore-some');
    const result = await restoreSnapshot(repo, first.snapshot, { target, include: ['*.md', `${src}/many/d03/s07`] });
    expect(result.errors).toEqual([]);
    expect(result.files).toBe(1 + SMALL_FILES);
    const restored = snapshotTree(restoredRoot(target));
    const expected = new Map([...firstTree].filter(([p]) => ['docs', 'docs/readme.md', 'many', 'many/d03', 'many/d03/s07'].includes(p) || p.startsWith('many/d03/s07/')));
    // Directories on the way to a match are created but keep no metadata promise beyond existing.
    for (const dir of ['docs', 'many', 'many/d03']) {
      expect(restored.get(dir)?.type).toBe('dir');
      restored.set(dir, expected.get(dir)!);
    }
    expect(diffTrees(expected, restored)).toEqual([]);
  });
});

describe('restore into a target that is not empty', () => {
  it('refuses, with the message the user sees, and writes nothing', async () => {
    const target = join(base, 'not-empty');
    mkdirSync(target);
    writeFileSync(join(target, 'precious.txt'), 'mine');
    const err = await rejectionOf(restoreSnapshot(repo, first.snapshot, { target, include: ['*.md'] }));
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe(`restore target ${target} is not empty: restore into an empty directory, or add --overwrite to replace what is there`);
    expect(readdirSync(target)).toEqual(['precious.txt']);
  });

  it('with overwrite, replaces what is in the way and keeps what is not', async () => {
    const target = join(base, 'overwrite');
    const root = restoredRoot(target);
    mkdirSync(join(root, 'docs/readme.md'), { recursive: true }); // a directory where a file goes
    writeFileSync(join(root, 'docs/readme.md/inner'), 'in the way');
    writeFileSync(join(root, 'many'), 'a file where a directory goes');
    mkdirSync(join(root, 'links'));
    writeFileSync(join(root, 'links/to-readme'), 'a file where a symlink goes');
    writeFileSync(join(root, 'unrelated.txt'), 'not in the snapshot');

    const result = await restoreSnapshot(repo, first.snapshot, { target, overwrite: true, include: ['*.md', 'to-readme', `${src}/many/d03/s07`] });
    expect(result.errors).toEqual([]);
    expect(result.files).toBe(1 + SMALL_FILES);
    const restored = snapshotTree(root);
    expect(restored.get('docs/readme.md')).toEqual(expect.objectContaining({ type: 'file', sha256: firstTree.get('docs/readme.md')!.sha256, mtimeMs: firstTree.get('docs/readme.md')!.mtimeMs }));
    expect(restored.get('links/to-readme')).toMatchObject({ type: 'symlink', target: '../docs/readme.md' });
    for (const [p, facts] of firstTree) if (p.startsWith('many/d03/s07/')) expect(restored.get(p)).toEqual({ ...facts, ino: restored.get(p)!.ino });
    expect(readFileSync(join(root, 'unrelated.txt'), 'utf8')).toBe('not in the snapshot');
  });
});

describe('a hostile or booby-trapped restore', () => {
  it('decodeTree rejects names that could leave the target', () => {
    const node = (name: string): TreeNode => ({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: '0', content: [] });
    for (const name of ['..', 'a/b', '', '.', '../../etc/passwd', 'a\0b']) {
      const tree = Buffer.from(JSON.stringify({ nodes: [node(name)] }));
      expect(() => decodeTree(tree, 'tree 1234')).toThrow(IntegrityError);
      expect(() => decodeTree(tree, 'tree 1234')).toThrow(`tree 1234 holds an unsafe name ${JSON.stringify(name)}`);
    }
    expect(() => decodeTree(Buffer.from(JSON.stringify({ nodes: [node('x'), node('x')] })), 'tree 1234')).toThrow('tree 1234 holds "x" twice');
    expect(decodeTree(encodeTree([node('..a'), node('a..'), node('...')]), 'tree 1234').nodes.map((n) => n.name)).toEqual(['...', '..a', 'a..']);
  });

  it('a snapshot whose tree names ".." fails to restore and writes nothing outside the target', async () => {
    // Written the way a hostile or buggy writer with the key could: straight through the session.
    const session = await BackupSession.start(repo, { workers: 1 });
    let result: BackupResult;
    try {
      const blob = await session.storeBlob(BlobType.Data, Buffer.from('escaped!'));
      const file = (name: string): TreeNode => ({ name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: '0', size: 8, content: [blob] });
      const inner = await session.storeTree([file('..'), file('pwned')]);
      const tree = await session.storeTree([{ name: 'dir', type: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: '0', subtree: inner }]);
      result = await session.commit({ sourceKind: 'files', paths: ['/dir'], tree });
    } finally {
      await session.close();
    }
    try {
      const parent = join(base, 'hostile');
      const target = join(parent, 'target');
      mkdirSync(parent);
      const err = await rejectionOf(restoreSnapshot(repo, result.snapshot, { target }));
      expect(err).toBeInstanceOf(IntegrityError);
      expect(err.message).toMatch(/^tree [0-9a-f]{64} holds an unsafe name "\.\."$/);
      expect(readdirSync(parent)).toEqual(['target']);
      expect(existsSync(join(target, 'pwned'))).toBe(false);
      expect(existsSync(join(target, 'dir/pwned'))).toBe(false);
      // check names the bad tree too.
      const check = await checkRepository(repo, { workers: 1 });
      expect(check.errors).toEqual([expect.stringMatching(new RegExp(`^snapshot ${result.snapshotId.slice(0, 8)}: directory /dir: tree [0-9a-f]{64} holds an unsafe name "\\.\\."$`))]);
    } finally {
      await repo.storage.delete(`snapshots/${result.snapshotId}`);
    }
  });

  it('with overwrite, replaces a symlink at a directory position instead of writing through it', async () => {
    const outside = join(base, 'outside');
    mkdirSync(outside);
    const target = join(base, 'trap-dir');
    const top = src.split('/')[1]; // the first component of the source path ("tmp")
    mkdirSync(target);
    symlinkSync(outside, join(target, top));

    const result = await restoreSnapshot(repo, first.snapshot, { target, overwrite: true, include: ['*.md'] });
    expect(result.errors).toEqual([]);
    expect(readdirSync(outside)).toEqual([]);
    expect(lstatSync(join(target, top)).isDirectory()).toBe(true);
    expect(readFileSync(join(restoredRoot(target), 'docs/readme.md'), 'utf8')).toBe(readFileSync(join(src, 'docs/readme.md'), 'utf8'));
  });

  it('with overwrite, replaces a symlink at a file position instead of writing through it', async () => {
    const victim = join(base, 'victim.txt');
    writeFileSync(victim, 'precious');
    const target = join(base, 'trap-file');
    mkdirSync(join(restoredRoot(target), 'docs'), { recursive: true });
    symlinkSync(victim, join(restoredRoot(target), 'docs/readme.md'));
    // A symlinked directory deeper down, too.
    symlinkSync(dirname(victim), join(restoredRoot(target), 'links'));

    const result = await restoreSnapshot(repo, first.snapshot, { target, overwrite: true, include: ['*.md', 'to-readme'] });
    expect(result.errors).toEqual([]);
    expect(readFileSync(victim, 'utf8')).toBe('precious');
    expect(existsSync(join(dirname(victim), 'to-readme'))).toBe(false);
    expect(lstatSync(join(restoredRoot(target), 'docs/readme.md')).isFile()).toBe(true);
    expect(lstatSync(join(restoredRoot(target), 'links')).isDirectory()).toBe(true);
    expect(lstatSync(join(restoredRoot(target), 'links/to-readme')).isSymbolicLink()).toBe(true);
  });
});

describe('a file that grew after it was listed', () => {
  it('is read whole, beside small files read in the same batch, and restored byte for byte', async () => {
    const dir = join(base, 'growing');
    mkdirSync(dir);
    const stream = new ByteStream('grown', 0.5);
    const contents = new Map<string, Buffer>();
    for (const name of ['a.txt', 'grown.bin', 'z.txt']) {
      contents.set(name, stream.next(name === 'grown.bin' ? 10 * MiB + 12345 : 40_000));
      writeFileSync(join(dir, name), contents.get(name)!);
    }
    // The walk saw grown.bin when it was still small; now it is larger than a worker's whole
    // read buffer, so the worker must switch to streaming it.
    async function* listedSmall() {
      for await (const event of walkFiles([dir])) {
        yield event.kind === 'entry' && event.entry.name === 'grown.bin' ? { ...event, entry: { ...event.entry, size: 100 } } : event;
      }
    }
    const { snapshot } = await backupFiles(repo, listedSmall(), { paths: [dir], parent: false });
    expect(snapshot.warnings).toEqual([]);
    for (const [name, expected] of contents) {
      const out = collector();
      expect(await dumpFile(repo, snapshot, `${dir}/${name}`, out)).toBe(expected.length);
      expect(out.bytes().equals(expected)).toBe(true);
    }
  });
});

describe('a stdin backup', () => {
  it('round trips through dump byte for byte', async () => {
    const stream = new ByteStream('stdin', 0.5);
    const pieces: Buffer[] = [];
    // Irregular piece sizes, as a pipe delivers them.
    for (let i = 0; i < 300; i++) pieces.push(stream.next(1 + ((i * 7919) % 140_000)));
    const expected = Buffer.concat(pieces);
    const { snapshotId, snapshot } = await backupStream(repo, Readable.from(pieces), 'db.sql');
    expect(snapshot).toMatchObject({ sourceKind: 'stdin', paths: ['/db.sql'] });
    expect(snapshot.stats).toMatchObject({ files: 1, totalBytes: expected.length, bytesRead: expected.length });

    const found = await repo.findSnapshot(snapshotId.slice(0, 8));
    const entries = [];
    for await (const e of listSnapshot(repo, found.snapshot)) entries.push([e.path, e.node.type, e.node.size]);
    expect(entries).toEqual([['/db.sql', 'file', expected.length]]);
    const out = collector();
    expect(await dumpFile(repo, found.snapshot, '/db.sql', out)).toBe(expected.length);
    expect(out.bytes().equals(expected)).toBe(true);
  });

  it('a stream that fails midway leaves no snapshot', async () => {
    const before = (await repo.listSnapshotIds()).sort();
    async function* failing() {
      yield Buffer.alloc(1 << 20, 1);
      throw new Error('pg_dump: connection lost');
    }
    const err = await rejectionOf(backupStream(repo, Readable.from(failing()), 'db.sql'));
    expect(err.message).toBe('pg_dump: connection lost');
    expect((await repo.listSnapshotIds()).sort()).toEqual(before);
  });

  it('refuses a file name that is not one path component', async () => {
    for (const name of ['a/b', '', '..']) {
      const err = await rejectionOf(backupStream(repo, Readable.from([Buffer.from('x')]), name));
      expect(err).toBeInstanceOf(UsageError);
      expect(err.message).toBe(`"${name}" is not a usable file name for --stdin-filename (no slashes, not empty)`);
    }
  });
});

describe('choosing the parent snapshot', () => {
  it('takes the last snapshot of this host and these paths, not another host\'s', async () => {
    const dir = tempDir('parent');
    const src = join(dir, 'src');
    mkdirSync(src);
    writeFileSync(join(src, 'file'), 'content');
    const shared = await initRepo(join(dir, 'repo'));
    const mine = await backupFiles(shared, walkFiles([src]), { paths: [src] });
    const theirs = await backupFiles(shared, walkFiles([src]), { paths: [src], host: 'another-host' });
    expect(theirs.snapshot.parent).toBeUndefined();

    const next = await backupFiles(shared, walkFiles([src]), { paths: [src] });
    expect(next.snapshot.host).toBe(hostname());
    expect(next.snapshot.parent).toBe(mine.snapshotId);
    expect(next.snapshot.stats.bytesRead).toBe(0);
  });
});

describe('two processes sharing a repository', () => {
  it('each backs up against, and restores, what the other stored since it opened the repository', async () => {
    const dir = join(base, 'shared-src');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.txt'), 'written before both backups\n');
    const repoDir = join(base, 'shared-repo');
    const agent = await initRepo(repoDir); // a long-running process keeps its Repository open
    await backupFiles(agent, walkFiles([dir]), { paths: [dir] });

    const other = await openRepo(repoDir); // e.g. a CLI run meanwhile
    writeFileSync(join(dir, 'b.txt'), 'written by the other process\n');
    const theirs = await backupFiles(other, walkFiles([dir]), { paths: [dir] });

    const target = join(base, 'shared-restore');
    const result = await restoreSnapshot(agent, theirs.snapshot, { target });
    expect(result.errors).toEqual([]);
    expect(readFileSync(join(target, dir, 'b.txt'), 'utf8')).toBe('written by the other process\n');

    writeFileSync(join(dir, 'c.txt'), 'written by a third process\n');
    const third = await backupFiles(await openRepo(repoDir), walkFiles([dir]), { paths: [dir] });
    // The agent's next backup uses that snapshot as parent: it reads its trees.
    const mine = await backupFiles(agent, walkFiles([dir]), { paths: [dir] });
    expect(mine.snapshot.parent).toBe(third.snapshotId);
    expect(mine.snapshot.stats.bytesRead).toBe(0);

    // And reads what yet another process stored after that, without reopening.
    writeFileSync(join(dir, 'd.txt'), 'written by a fourth process\n');
    const fourth = await backupFiles(await openRepo(repoDir), walkFiles([dir]), { paths: [dir] });
    const out = collector();
    await dumpFile(agent, fourth.snapshot, join(dir, 'd.txt'), out);
    expect(out.bytes().toString()).toBe('written by a fourth process\n');
  });
});

describe('the repository after all of the above', () => {
  it('checks clean, reading every pack', async () => {
    const check = await checkRepository(repo, { readDataPercent: 100 });
    expect(check.errors).toEqual([]);
    expect(check.notes).toEqual([]);
    expect(check.packsRead).toBe(check.packs);
  });
});
