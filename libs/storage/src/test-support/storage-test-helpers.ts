import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import type { ObjectInfo, Storage } from '../storage';
import { StorageError } from '../storage';

/** Every item of an async iterable, in order. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Listing results by name, since listings promise no order. */
export function sorted(items: ObjectInfo[]): ObjectInfo[] {
  return [...items].sort((a, b) => a.name.localeCompare(b.name));
}

/** The error a call failed with; a call that succeeds fails the test. */
export async function failure<E = unknown>(call: Promise<unknown>): Promise<E> {
  try {
    await call;
  } catch (err) {
    return err as E;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Checks what every storage error promises: its class, `permanent`, the object, and a message naming both. */
export function expectStorageError(err: unknown, storage: Storage, objectName: string, permanent: boolean): void {
  expect(err).toBeInstanceOf(StorageError);
  const e = err as StorageError;
  expect(e.permanent).toBe(permanent);
  expect(e.objectName).toBe(objectName);
  expect(e.message).toContain(objectName);
  expect(e.message).toContain(storage.location);
}

/** Every file below `dir`, relative, sorted; temp files included, which is the point. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
