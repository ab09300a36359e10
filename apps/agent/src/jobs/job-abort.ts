import type { ObjectInfo, PutOptions, Storage } from '@coffer/storage';

/** Why a running job is being stopped. */
export type AbortReason = 'cancel' | 'timeout' | 'shutdown';

/** Thrown inside a job once it has been asked to stop. */
export class JobAbortedError extends Error {
  constructor(readonly reason: AbortReason) {
    super(reason === 'timeout' ? 'the job ran out of time' : reason === 'shutdown' ? 'the agent is stopping' : 'the job was cancelled');
    this.name = 'JobAbortedError';
  }
}

/** Throws JobAbortedError when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

/** The error to fail with once `signal` has fired. */
export function abortError(signal: AbortSignal): JobAbortedError {
  return signal.reason instanceof JobAbortedError ? signal.reason : new JobAbortedError('cancel');
}

/**
 * Passes items through until `signal` fires, then throws instead of yielding. The repository
 * functions take no AbortSignal; a files backup consumes the walk with `for await`, so a
 * walk that throws makes backupFiles reject before it commits: no snapshot is written.
 */
export async function* abortableIterable<T>(source: AsyncIterable<T>, signal: AbortSignal): AsyncGenerator<T> {
  throwIfAborted(signal);
  for await (const item of source) {
    throwIfAborted(signal);
    yield item;
  }
}

/**
 * A Storage that refuses every operation once `signal` has fired, except on locks/ (a
 * failing operation must still release its repository lock). This makes every repository
 * operation stop at its next storage call on the main thread: backup (pack uploads and the
 * final snapshot write), forget and prune (which order their writes to be safe at any
 * interruption), and the index/tree reads of restore and check. Work inside the library's
 * worker threads (reading and writing files for restore, re-hashing packs for check) does
 * not go through it: the job process is killed after a grace period for those.
 */
export function abortableStorage(inner: Storage, signal: AbortSignal): Storage {
  const check = (name: string) => {
    if (signal.aborted && !name.startsWith('locks/')) throw abortError(signal);
  };
  return {
    get location() {
      return inner.location;
    },
    async put(name: string, data: Uint8Array, options?: PutOptions) {
      check(name);
      return inner.put(name, data, options);
    },
    async get(name: string) {
      check(name);
      return inner.get(name);
    },
    async getRange(name: string, offset: number, length: number) {
      check(name);
      return inner.getRange(name, offset, length);
    },
    async stat(name: string) {
      check(name);
      return inner.stat(name);
    },
    async exists(name: string) {
      check(name);
      return inner.exists(name);
    },
    async *list(prefix: string): AsyncIterable<ObjectInfo> {
      check(`${prefix}/`);
      for await (const info of inner.list(prefix)) {
        check(`${prefix}/`);
        yield info;
      }
    },
    async delete(name: string) {
      check(name);
      return inner.delete(name);
    },
    close: () => inner.close(),
  };
}
