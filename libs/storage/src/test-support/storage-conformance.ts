import { createHash, randomBytes } from 'node:crypto';
import { AlreadyExistsError, NotFoundError, StorageError } from '../storage';
import type { ObjectInfo, Storage } from '../storage';
import { collect, expectStorageError, failure, sorted } from './storage-test-helpers';

/** A fresh, empty storage for one test, and how to throw it away (called after `close()`). */
export interface StorageUnderTest {
  storage: Storage;
  cleanup(): Promise<void>;
}

/**
 * The contracts of storage.ts as jest tests; every driver's spec calls this once so
 * that code above the Storage interface can rely on them whatever the driver.
 * Each test gets its own storage from `makeStorage`.
 */
export function describeStorageConformance(name: string, makeStorage: () => Promise<StorageUnderTest>): void {
  describe(`Storage conformance: ${name}`, () => {
    let subject: StorageUnderTest;
    let storage: Storage;

    beforeEach(async () => {
      subject = await makeStorage();
      storage = subject.storage;
    });

    afterEach(async () => {
      await storage.close();
      await subject.cleanup();
    });

    describe('put and get', () => {
      it('round-trips bytes and returns a Buffer', async () => {
        const data = new Uint8Array([0, 1, 2, 253, 254, 255]);
        await storage.put('config', data);
        const back = await storage.get('config');
        expect(Buffer.isBuffer(back)).toBe(true);
        expect([...back]).toEqual([...data]);
      });

      it('stores exactly the bytes of a view into a larger buffer', async () => {
        const whole = Buffer.from('xxxxHELLOyyyy');
        await storage.put('keys/view', whole.subarray(4, 9));
        expect((await storage.get('keys/view')).toString()).toBe('HELLO');
      });

      it('stores every kind of name the repository uses', async () => {
        const names = ['config', `keys/${hex()}`, `locks/${hex()}`, `data/${hex()}`, `index/${hex()}`, `snapshots/${hex()}`];
        for (const n of names) await storage.put(n, Buffer.from(n));
        for (const n of names) {
          expect((await storage.get(n)).toString()).toBe(n);
          expect(await storage.stat(n)).toEqual({ name: n, size: Buffer.byteLength(n) });
          expect(await storage.exists(n)).toBe(true);
        }
      });

      it('keeps 0-byte objects', async () => {
        const n = `data/${hex()}`;
        await storage.put(n, new Uint8Array(0));
        expect((await storage.get(n)).length).toBe(0);
        expect(await storage.stat(n)).toEqual({ name: n, size: 0 });
        expect(await storage.exists(n)).toBe(true);
        expect((await storage.getRange(n, 0, 0)).length).toBe(0);
        expect(await collect(storage.list('data'))).toEqual([{ name: n, size: 0 }]);
      });

      it('round-trips a 20 MiB object', async () => {
        const data = randomBytes(20 * 1024 * 1024);
        const n = contentName('data', data);
        await storage.put(n, data);
        expect((await storage.get(n)).equals(data)).toBe(true);
        expect((await storage.stat(n)).size).toBe(data.length);
        const tail = await storage.getRange(n, data.length - 1000, 1000);
        expect(tail.equals(data.subarray(data.length - 1000))).toBe(true);
      });

      it('replaces an existing object', async () => {
        await storage.put('config', Buffer.from('first version'));
        await storage.put('config', Buffer.from('second'));
        expect((await storage.get('config')).toString()).toBe('second');
        expect((await storage.stat('config')).size).toBe(6);
      });

      it('never shows a reader part of an object being written', async () => {
        const n = `index/${hex()}`;
        const first = randomBytes(4 * 1024 * 1024);
        const second = randomBytes(3 * 1024 * 1024);
        // While the first version is written, a reader sees nothing or all of it.
        const seenNew = await readWhile(storage.put(n, first), () => storage.get(n));
        for (const seen of seenNew) expect(seen === 'missing' || seen.equals(first)).toBe(true);
        // While it is replaced, a reader sees the old or the new version, whole.
        const seenReplace = await readWhile(storage.put(n, second), () => storage.get(n));
        for (const seen of seenReplace) expect(seen !== 'missing' && (seen.equals(first) || seen.equals(second))).toBe(true);
        expect((await storage.get(n)).equals(second)).toBe(true);
      });

      it('accepts concurrent puts of the same content-addressed object', async () => {
        const data = randomBytes(256 * 1024);
        const n = contentName('data', data);
        await Promise.all(Array.from({ length: 8 }, () => storage.put(n, data)));
        expect((await storage.get(n)).equals(data)).toBe(true);
        expect(await collect(storage.list('data'))).toEqual([{ name: n, size: data.length }]);
      });

      it('accepts putting the same content-addressed object again', async () => {
        const data = Buffer.from('chunk');
        const n = contentName('data', data);
        await storage.put(n, data);
        await storage.put(n, data);
        expect((await storage.get(n)).equals(data)).toBe(true);
      });
    });

    describe('exclusive put', () => {
      it('creates a missing object', async () => {
        const n = `locks/${hex()}`;
        await storage.put(n, Buffer.from('mine'), { exclusive: true });
        expect((await storage.get(n)).toString()).toBe('mine');
      });

      it('refuses a taken name with AlreadyExistsError and leaves the object as it was', async () => {
        const n = `locks/${hex()}`;
        await storage.put(n, Buffer.from('first holder'));
        const err = await failure(storage.put(n, Buffer.from('second'), { exclusive: true }));
        expect(err).toBeInstanceOf(AlreadyExistsError);
        expectStorageError(err, storage, n, true);
        expect((await storage.get(n)).toString()).toBe('first holder');
        expect(await collect(storage.list('locks'))).toEqual([{ name: n, size: 12 }]);
      });

      it('lets exactly one of several concurrent exclusive puts win', async () => {
        const n = `locks/${hex()}`;
        const contenders = Array.from({ length: 6 }, (_, i) => Buffer.from(`contender ${i}`));
        const results = await Promise.allSettled(contenders.map((c) => storage.put(n, c, { exclusive: true })));
        const winners = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) {
          if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExistsError);
        }
        expect((await storage.get(n)).equals(contenders[winners[0]])).toBe(true);
      });
    });

    describe('missing objects', () => {
      it.each([
        ['a name under a prefix never written', () => `snapshots/${hex()}`],
        ['a top-level name', () => 'config'],
        ['a name beside existing objects', () => `data/${hex()}`],
      ])('report NotFoundError (permanent) for %s', async (_, makeName) => {
        await storage.put(`data/${hex()}`, Buffer.from('neighbour'));
        const n = makeName();
        for (const call of [() => storage.get(n), () => storage.getRange(n, 0, 1), () => storage.stat(n)]) {
          const err = await failure(call());
          expect(err).toBeInstanceOf(NotFoundError);
          expectStorageError(err, storage, n, true);
        }
        expect(await storage.exists(n)).toBe(false);
      });

      it('treat a prefix as no object', async () => {
        await storage.put('keys/a', Buffer.from('k'));
        expect(await storage.exists('keys')).toBe(false);
        expect(await failure(storage.get('keys'))).toBeInstanceOf(NotFoundError);
        expect(await failure(storage.stat('keys'))).toBeInstanceOf(NotFoundError);
      });
    });

    describe('getRange', () => {
      const data = Buffer.from('0123456789abcdefghij');
      let n: string;

      beforeEach(async () => {
        n = `data/${hex()}`;
        await storage.put(n, data);
      });

      it.each([
        ['the start', 0, 4],
        ['the middle', 7, 5],
        ['the end', 15, 5],
        ['the whole object', 0, 20],
        ['nothing at the end', 20, 0],
      ])('reads %s', async (_, offset, length) => {
        const part = await storage.getRange(n, offset, length);
        expect(Buffer.isBuffer(part)).toBe(true);
        expect(part.toString()).toBe(data.subarray(offset, offset + length).toString());
      });

      it.each([
        ['a range running past the end', 15, 6],
        ['a range starting past the end', 25, 1],
        ['a range far beyond the end', 1_000_000, 4096],
      ])('refuses %s with a permanent StorageError that is not NotFoundError', async (_, offset, length) => {
        const err = await failure(storage.getRange(n, offset, length));
        expect(err).not.toBeInstanceOf(NotFoundError);
        expectStorageError(err, storage, n, true);
      });
    });

    describe('delete', () => {
      it('removes the object', async () => {
        const n = `data/${hex()}`;
        await storage.put(n, Buffer.from('gone soon'));
        await storage.delete(n);
        expect(await storage.exists(n)).toBe(false);
        expect(await failure(storage.get(n))).toBeInstanceOf(NotFoundError);
        expect(await collect(storage.list('data'))).toEqual([]);
      });

      it('succeeds for a missing object, and twice', async () => {
        const n = `locks/${hex()}`;
        await storage.delete(n);
        await storage.put(n, Buffer.from('lock'));
        await storage.delete(n);
        await storage.delete(n);
        expect(await storage.exists(n)).toBe(false);
      });

      it('leaves the name free for a later put, exclusive included', async () => {
        const n = `locks/${hex()}`;
        await storage.put(n, Buffer.from('old'), { exclusive: true });
        await storage.delete(n);
        await storage.put(n, Buffer.from('new'), { exclusive: true });
        expect((await storage.get(n)).toString()).toBe('new');
      });
    });

    describe('list', () => {
      it('yields every object under the prefix with its size, and nothing else', async () => {
        // Several names share their first two hex digits, so they share a fan-out bucket in drivers that have one.
        const dataNames = ['00' + hex(62), '00' + hex(62), 'ff' + hex(62), hex(), hex(), hex()].map((h) => `data/${h}`);
        const objects: ObjectInfo[] = dataNames.map((n, i) => ({ name: n, size: i * 7 }));
        const others: ObjectInfo[] = [
          { name: `index/${hex()}`, size: 3 },
          { name: 'keys/alpha', size: 5 },
          { name: 'keys/beta', size: 0 },
          { name: 'config', size: 9 },
          { name: `locks/${hex()}`, size: 1 },
        ];
        for (const o of [...objects, ...others]) await storage.put(o.name, randomBytes(o.size));
        expect(sorted(await collect(storage.list('data')))).toEqual(sorted(objects));
        expect(sorted(await collect(storage.list('keys')))).toEqual(sorted(others.slice(1, 3)));
        expect(await collect(storage.list('index'))).toEqual([others[0]]);
        expect(await collect(storage.list('locks'))).toEqual([others[4]]);
        expect(await collect(storage.list('snapshots'))).toEqual([]);
      });

      it('matches whole segments: a prefix is followed by "/"', async () => {
        await storage.put('config', Buffer.from('c'));
        await storage.put('keys/a', Buffer.from('k'));
        await storage.put('keysbackup/b', Buffer.from('k'));
        expect(await collect(storage.list('conf'))).toEqual([]);
        expect(await collect(storage.list('config'))).toEqual([]);
        expect(await collect(storage.list('keys'))).toEqual([{ name: 'keys/a', size: 1 }]);
      });

      it('is empty on a fresh storage', async () => {
        for (const prefix of ['data', 'index', 'snapshots', 'keys', 'locks']) {
          expect(await collect(storage.list(prefix))).toEqual([]);
        }
      });

      it('only ever reports whole objects, even while puts are running', async () => {
        const blobs = Array.from({ length: 12 }, () => randomBytes(512 * 1024));
        const expected = new Map(blobs.map((b) => [contentName('data', b), b.length]));
        const listings = await readWhile(
          Promise.all(blobs.map((b) => storage.put(contentName('data', b), b))),
          () => collect(storage.list('data')),
        );
        for (const listing of listings) {
          if (listing === 'missing') throw new Error('list() must not fail with NotFoundError');
          for (const info of listing) expect(info.size).toBe(expected.get(info.name));
        }
        expect(sorted(await collect(storage.list('data')))).toEqual(sorted([...expected].map(([n, size]) => ({ name: n, size }))));
      });
    });

    describe('names', () => {
      const unsafe = ['../escape', 'data/../config', 'keys/../../etc/passwd', '..', '/etc/passwd', 'keys\\evil', 'keys/a\0b', ''];

      it.each(unsafe.map((n) => [JSON.stringify(n), n]))('rejects %s in every call, permanently', async (_, n) => {
        const calls: [string, () => Promise<unknown>][] = [
          ['put', () => storage.put(n, Buffer.from('x'))],
          ['put exclusive', () => storage.put(n, Buffer.from('x'), { exclusive: true })],
          ['get', () => storage.get(n)],
          ['getRange', () => storage.getRange(n, 0, 1)],
          ['stat', () => storage.stat(n)],
          ['exists', () => storage.exists(n)],
          ['delete', () => storage.delete(n)],
          ['list', () => collect(storage.list(n))],
        ];
        for (const [call, run] of calls) {
          const err = await failure(run());
          expect([call, err instanceof StorageError]).toEqual([call, true]);
          expect([call, (err as StorageError).permanent]).toEqual([call, true]);
          expect((err as Error).message).toContain(storage.location);
        }
      });
    });
  });
}

/** Random lower-case hex, as a content hash would be (default 64 digits). */
function hex(digits = 64): string {
  return randomBytes(Math.ceil(digits / 2))
    .toString('hex')
    .slice(0, digits);
}

function contentName(prefix: string, data: Uint8Array): string {
  return `${prefix}/${createHash('sha256').update(data).digest('hex')}`;
}


/**
 * Reads repeatedly until `writer` settles (at least once), so reads overlap the write;
 * NotFoundError reads come back as 'missing'. Rethrows the writer's failure.
 */
async function readWhile<T>(writer: Promise<unknown>, read: () => Promise<T>): Promise<(T | 'missing')[]> {
  let settled = false;
  const done = writer.finally(() => {
    settled = true;
  });
  // Should a read throw first, the writer's own failure must not surface as an unhandled rejection.
  done.catch(() => undefined);
  const seen: (T | 'missing')[] = [];
  do {
    seen.push(
      await read().catch((err: unknown) => {
        if (err instanceof NotFoundError) return 'missing' as const;
        throw err;
      }),
    );
  } while (!settled);
  await done;
  return seen;
}
