import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FaultInjectingStorage } from '../fault-injecting-storage';
import { AlreadyExistsError, NotFoundError, StorageError, StorageFullError } from '../storage';
import { describeStorageConformance } from '../test-support/storage-conformance';
import { LocalStorage } from './local-storage';
import { collect, failure, filesUnder } from '../test-support/storage-test-helpers';

/** Set in CI: a test that cannot get the environment it needs fails instead of degrading (STYLE.md "Tests"). */
const SKIP_DISALLOWED = process.env.COFFER_TEST_DISALLOW_SKIP === '1';

describeStorageConformance('LocalStorage', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'coffer-local-storage-'));
  return { storage: new LocalStorage(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

describe('LocalStorage', () => {
  let root: string;
  let storage: LocalStorage;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'coffer-local-storage-'));
    storage = new LocalStorage(root);
  });

  afterEach(async () => {
    await storage.close();
    await rm(root, { recursive: true, force: true });
  });

  it('fans content-addressed objects out by their first two hex digits and stores other names as given', async () => {
    const data = 'ab' + hex(62);
    const index = '00' + hex(62);
    const snapshot = 'ff' + hex(62);
    for (const n of [`data/${data}`, `index/${index}`, `snapshots/${snapshot}`, 'config', 'keys/k1', 'locks/l1']) {
      await storage.put(n, Buffer.from(n));
    }
    expect(await filesUnder(root)).toEqual(
      [`data/ab/${data}`, `index/00/${index}`, `snapshots/ff/${snapshot}`, 'config', 'keys/k1', 'locks/l1'].sort(),
    );
  });

  it('writes objects read-only, yet replaces and deletes them', async () => {
    await storage.put('config', Buffer.from('v1'));
    expect((await stat(path.join(root, 'config'))).mode & 0o777).toBe(0o444);
    await storage.put('config', Buffer.from('v2'));
    expect((await storage.get('config')).toString()).toBe('v2');
    await storage.delete('config');
    expect(await filesUnder(root)).toEqual([]);
  });

  it('creates its root directory on first write', async () => {
    const nested = new LocalStorage(path.join(root, 'not', 'yet'));
    expect(await nested.exists('config')).toBe(false);
    expect(await collect(nested.list('data'))).toEqual([]);
    await nested.put(`data/${hex()}`, Buffer.from('x'));
    expect(await collect(nested.list('data'))).toHaveLength(1);
  });

  it('resolves a relative root, so messages name an absolute location', () => {
    expect(new LocalStorage('relative/dir').location).toBe(path.resolve('relative/dir'));
  });

  it('lists neither temp files nor strays in the fan-out layout', async () => {
    const name = `data/ab${hex(62)}`;
    await storage.put(name, Buffer.from('real'));
    await storage.put('keys/k1', Buffer.from('key'));
    await writeFile(path.join(root, 'data', 'ab', '.tmp-0123456789abcdef'), 'half written');
    await writeFile(path.join(root, 'data', 'ab', 'notes.txt'), 'stray');
    await writeFile(path.join(root, 'data', 'ab', 'cd' + hex(62)), 'in the wrong bucket');
    await writeFile(path.join(root, 'data', 'loose'), 'stray');
    await writeFile(path.join(root, 'keys', '.tmp-0123456789abcdef'), 'half written');
    await mkdir(path.join(root, 'keys', '.tmp-dir'));
    await writeFile(path.join(root, 'keys', '.tmp-dir', 'x'), 'x');
    expect(await collect(storage.list('data'))).toEqual([{ name, size: 4 }]);
    expect(await collect(storage.list('keys'))).toEqual([{ name: 'keys/k1', size: 3 }]);
  });

  it('lists nested names below an ordinary prefix', async () => {
    await storage.put('keys/a/b', Buffer.from('12'));
    expect(await collect(storage.list('keys'))).toEqual([{ name: 'keys/a/b', size: 2 }]);
    expect(await collect(storage.list('keys/a'))).toEqual([{ name: 'keys/a/b', size: 2 }]);
  });

  it('lists nothing below a fan-out bucket, since content-addressed names have one segment', async () => {
    await storage.put(`data/ab${hex(62)}`, Buffer.from('x'));
    expect(await collect(storage.list('data/ab'))).toEqual([]);
  });

  it.each([
    ['upper-case hex', `data/AB${hex(62)}`],
    ['non-hex', 'data/not-a-hash'],
    ['a single digit', 'index/a'],
    ['a nested name', 'snapshots/ab/cd'],
    ['a bare fan-out prefix', 'data'],
    ['a temp-file name', 'keys/.tmp-123'],
    ['a "." segment', 'keys/./x'],
    ['an empty segment', 'keys//x'],
    ['a trailing slash', 'keys/x/'],
  ])('rejects %s as a permanent error', async (_, name) => {
    const err = await failure(storage.put(name, Buffer.from('x')));
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).permanent).toBe(true);
    expect((err as StorageError).message).toContain(root);
    expect(await filesUnder(root)).toEqual([]);
  });

  it('says a short object is truncated', async () => {
    const name = `data/${hex()}`;
    await storage.put(name, randomBytes(100));
    await truncate(path.join(root, 'data', name.slice(5, 7), name.slice(5)), 60);
    const err = await failure(storage.getRange(name, 50, 20));
    expect(err).toBeInstanceOf(StorageError);
    expect(err).not.toBeInstanceOf(NotFoundError);
    expect((err as StorageError).permanent).toBe(true);
    expect((err as Error).message).toMatch(/shorter than expected \(truncated\?\).*bytes 50\.\.70.*has 60 bytes/);
  });

  it('refuses a negative or fractional range', async () => {
    await storage.put('config', Buffer.from('0123'));
    for (const [offset, length] of [
      [-1, 1],
      [0, -1],
      [0.5, 1],
    ]) {
      const err = await failure(storage.getRange('config', offset, length));
      expect((err as StorageError).permanent).toBe(true);
    }
  });

  describe('leaves no temp file behind when a put fails', () => {
    it('on an exclusive put of a taken name', async () => {
      const name = `locks/${hex()}`;
      await storage.put(name, Buffer.from('held'));
      expect(await failure(storage.put(name, Buffer.from('x'), { exclusive: true }))).toBeInstanceOf(AlreadyExistsError);
      expect(await filesUnder(root)).toEqual([name]);
    });

    it('when the name clashes with a directory', async () => {
      await storage.put('keys/k1', Buffer.from('key'));
      const err = await failure(storage.put('keys', Buffer.from('x')));
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).permanent).toBe(true);
      expect((err as Error).message).toContain('keys');
      expect(await filesUnder(root)).toEqual(['keys/k1']);
    });
  });

  describe('on a full filesystem', () => {
    it('fails with StorageFullError, leaves nothing partial, and recovers once space is freed', async () => {
      const small = `data/${hex()}`;
      const big = `data/${hex()}`;
      await withTmpfs('size=2m', async (mounted) => {
        if (mounted !== undefined) {
          const full = new LocalStorage(mounted);
          await full.put(small, randomBytes(512 * 1024));
          const err = await failure(full.put(big, randomBytes(3 * 1024 * 1024)));
          expect(err).toBeInstanceOf(StorageFullError);
          expect((err as StorageFullError).permanent).toBe(true);
          expect((err as StorageFullError).objectName).toBe(big);
          expect((err as Error).message).toContain(mounted);
          expect(await filesUnder(mounted)).toEqual([`data/${small.slice(5, 7)}/${small.slice(5)}`]);
          expect(await collect(full.list('data'))).toEqual([{ name: small, size: 512 * 1024 }]);
          await full.delete(small);
          await full.put(big, randomBytes(1024 * 1024));
          return;
        }
        // tmpfs could not be mounted (not root, or no CAP_SYS_ADMIN in this container), so
        // this only shows that a full disk, as FaultInjectingStorage fakes it, reaches the caller.
        const faulty = new FaultInjectingStorage(storage).failPut({ match: (n) => n === big });
        await faulty.put(small, randomBytes(1024));
        expect(await failure(faulty.put(big, randomBytes(1024)))).toBeInstanceOf(StorageFullError);
        expect(await collect(storage.list('data'))).toEqual([{ name: small, size: 1024 }]);
      });
    });
  });

  describe('on a read-only filesystem', () => {
    it('fails permanently, naming the object', async () => {
      await withTmpfs('ro,size=1m', async (mounted) => {
        if (mounted === undefined) return; // Nothing to fall back on: only a real mount yields EROFS as root.
        const readOnly = new LocalStorage(mounted);
        const err = await failure(readOnly.put('config', Buffer.from('x')));
        expect(err).toBeInstanceOf(StorageError);
        expect(err).not.toBeInstanceOf(StorageFullError);
        expect((err as StorageError).permanent).toBe(true);
        expect((err as Error).message).toMatch(/cannot write config to .*permission denied \(EROFS\)/);
        expect(await failure(readOnly.get('config'))).toBeInstanceOf(NotFoundError);
      });
    });
  });
});

/**
 * Runs `body` with a fresh tmpfs of the given options mounted, or with undefined when
 * mounting is not permitted here (then fails instead when COFFER_TEST_DISALLOW_SKIP=1).
 */
async function withTmpfs(options: string, body: (dir: string | undefined) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'coffer-tmpfs-'));
  let mounted = false;
  try {
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      if (SKIP_DISALLOWED) throw new Error(`cannot mount a tmpfs for this test: ${String(err)}`);
    }
    await body(mounted ? dir : undefined);
  } finally {
    // Lazy: a driver that leaks a file handle would otherwise leave the mount behind (EBUSY).
    if (mounted) execFileSync('umount', ['--lazy', dir], { stdio: 'pipe' });
    await rm(dir, { recursive: true, force: true });
  }
}

function hex(digits = 64): string {
  return randomBytes(digits / 2).toString('hex');
}

