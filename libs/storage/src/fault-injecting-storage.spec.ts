import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FaultInjectingStorage } from './fault-injecting-storage';
import { LocalStorage } from './local/local-storage';
import { AccessDeniedError, NotFoundError, StorageError, StorageFullError } from './storage';

describe('FaultInjectingStorage', () => {
  let root: string;
  let inner: LocalStorage;
  let faulty: FaultInjectingStorage;

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'coffer-faulty-'));
    inner = new LocalStorage(root);
    faulty = new FaultInjectingStorage(inner);
  });

  afterEach(async () => {
    await faulty.close();
    await rm(root, { recursive: true, force: true });
  });

  it('fails only the Nth put, with StorageFullError by default, and writes nothing for it', async () => {
    faulty.failPut({ nth: 2 });
    await faulty.put('keys/1', Buffer.from('a'));
    const err = await faulty.put('keys/2', Buffer.from('b')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageFullError);
    expect((err as StorageFullError).objectName).toBe('keys/2');
    await faulty.put('keys/3', Buffer.from('c'));
    expect(await inner.exists('keys/2')).toBe(false);
    expect(faulty.putCount).toBe(3);
  });

  it('fails matching puts with the given error, a given number of times', async () => {
    faulty.failPut({ match: /^data\//, times: 2, error: (n, loc) => new StorageError(`flaky ${n} at ${loc}`, false, n) });
    await faulty.put('config', Buffer.from('c'));
    for (let i = 0; i < 2; i++) {
      await expect(faulty.put('data/aa', Buffer.from('x'))).rejects.toMatchObject({ permanent: false, objectName: 'data/aa' });
    }
    await faulty.put('data/aa', Buffer.from('x'));
    expect(await inner.exists('data/aa')).toBe(true);
  });

  it('can fail a put after it was stored, as a lost acknowledgement', async () => {
    faulty.failPut({ nth: 1, afterWrite: true });
    await expect(faulty.put('config', Buffer.from('c'))).rejects.toBeInstanceOf(StorageFullError);
    expect((await inner.get('config')).toString()).toBe('c');
  });

  it('fails reads of chosen names until cleared', async () => {
    await faulty.put('keys/k', Buffer.from('key'));
    faulty.failGet({ match: (n) => n === 'keys/k', error: (n, loc) => new NotFoundError(loc, n) });
    await expect(faulty.get('keys/k')).rejects.toBeInstanceOf(NotFoundError);
    await expect(faulty.getRange('keys/k', 0, 1)).rejects.toBeInstanceOf(NotFoundError);
    faulty.clearFaults();
    expect((await faulty.get('keys/k')).toString()).toBe('key');
  });

  it('makes objects look truncated in get, getRange, stat and list', async () => {
    await faulty.put('data/ab', Buffer.from('0123456789'));
    faulty.truncateOnRead({ match: /^data\//, keepBytes: 4 });
    expect((await faulty.get('data/ab')).toString()).toBe('0123');
    expect((await faulty.getRange('data/ab', 1, 3)).toString()).toBe('123');
    await expect(faulty.getRange('data/ab', 2, 4)).rejects.toThrow(/shorter than expected/);
    expect(await faulty.stat('data/ab')).toEqual({ name: 'data/ab', size: 4 });
    const listed = [];
    for await (const info of faulty.list('data')) listed.push(info);
    expect(listed).toEqual([{ name: 'data/ab', size: 4 }]);
  });

  it('flips one byte of what is read, leaving the stored object intact', async () => {
    await faulty.put('data/ab', Buffer.from([1, 2, 3, 4]));
    faulty.corruptOnRead({ offset: 2 });
    expect([...(await faulty.get('data/ab'))]).toEqual([1, 2, 3 ^ 0xff, 4]);
    expect([...(await faulty.getRange('data/ab', 2, 2))]).toEqual([3 ^ 0xff, 4]);
    expect([...(await faulty.getRange('data/ab', 0, 2))]).toEqual([1, 2]);
    expect([...(await inner.get('data/ab'))]).toEqual([1, 2, 3, 4]);
  });

  it('lags listings of chosen prefixes: objects written after, by anyone, stay out until cleared; deleted ones vanish', async () => {
    await inner.put('locks/old', Buffer.from('a'));
    await inner.put('locks/gone', Buffer.from('b'));
    await faulty.lagListings(['locks']);
    await inner.put('locks/new', Buffer.from('c')); // another writer
    await faulty.put('data/aa', Buffer.from('d')); // a prefix that does not lag
    await inner.delete('locks/gone');
    const names = async (prefix: string) => {
      const out: string[] = [];
      for await (const info of faulty.list(prefix)) out.push(info.name);
      return out.sort();
    };
    expect(await names('locks')).toEqual(['locks/old']);
    expect(await names('data')).toEqual(['data/aa']);
    expect((await faulty.get('locks/new')).toString()).toBe('c'); // reads are not affected
    faulty.clearFaults();
    expect(await names('locks')).toEqual(['locks/new', 'locks/old']);
  });

  it('refuses deletes with AccessDeniedError when told to, as credentials without delete rights would', async () => {
    await faulty.put('locks/l', Buffer.from('x'));
    faulty.denyDeletes();
    const err = await faulty.delete('locks/l').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AccessDeniedError);
    expect((err as AccessDeniedError).message).toBe(`${root} refused to delete locks/l: access denied (injected: credentials without delete rights)`);
    expect(await inner.exists('locks/l')).toBe(true);
  });
});
