import type { Storage } from '@coffer/storage';
import { abortableIterable, abortableStorage, JobAbortedError } from './job-abort';

function memoryStorage(): Storage & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    location: 'memory',
    put: async (name) => void calls.push(`put ${name}`),
    get: async (name) => (calls.push(`get ${name}`), Buffer.alloc(0)),
    getRange: async (name) => (calls.push(`getRange ${name}`), Buffer.alloc(0)),
    stat: async (name) => (calls.push(`stat ${name}`), { name, size: 0 }),
    exists: async (name) => (calls.push(`exists ${name}`), true),
    async *list(prefix) {
      calls.push(`list ${prefix}`);
      yield { name: `${prefix}/a`, size: 1 };
      yield { name: `${prefix}/b`, size: 1 };
    },
    delete: async (name) => void calls.push(`delete ${name}`),
    close: async () => void calls.push('close'),
  };
}

describe('abortableStorage', () => {
  test('passes everything through until the job is stopped', async () => {
    const inner = memoryStorage();
    const storage = abortableStorage(inner, new AbortController().signal);
    await storage.put('data/x', Buffer.from('x'));
    await storage.get('config');
    const listed: string[] = [];
    for await (const o of storage.list('index')) listed.push(o.name);
    expect(listed).toEqual(['index/a', 'index/b']);
    expect(storage.location).toBe('memory');
  });

  test('refuses work once stopped, but still lets locks be released and the storage closed', async () => {
    const inner = memoryStorage();
    const abort = new AbortController();
    const storage = abortableStorage(inner, abort.signal);
    abort.abort(new JobAbortedError('cancel'));
    await expect(storage.put('data/x', Buffer.from('x'))).rejects.toBeInstanceOf(JobAbortedError);
    await expect(storage.put('snapshots/x', Buffer.from('x'))).rejects.toThrow('the job was cancelled');
    await expect(storage.delete('data/x')).rejects.toBeInstanceOf(JobAbortedError);
    await storage.delete('locks/abc');
    await storage.close();
    expect(inner.calls).toEqual(['delete locks/abc', 'close']);
  });

  test('a listing stops between items', async () => {
    const abort = new AbortController();
    const storage = abortableStorage(memoryStorage(), abort.signal);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const o of storage.list('data')) {
          seen.push(o.name);
          abort.abort(new JobAbortedError('timeout'));
        }
      })(),
    ).rejects.toThrow('the job ran out of time');
    expect(seen).toEqual(['data/a']);
  });
});

describe('abortableIterable', () => {
  test('throws at the next item once stopped, and closes the source', async () => {
    const abort = new AbortController();
    let closed = false;
    async function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const i of abortableIterable(source(), abort.signal)) {
          seen.push(i);
          if (i === 2) abort.abort(new JobAbortedError('cancel'));
        }
      })(),
    ).rejects.toBeInstanceOf(JobAbortedError);
    expect(seen).toEqual([0, 1, 2]);
    expect(closed).toBe(true);
  });
});
