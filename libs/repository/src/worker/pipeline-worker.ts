import { createHash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage, Storage } from '@coffer/storage';
import { findCut, gearTableFromSeed } from '../chunker/chunker';
import { contentId, openSealingSession } from '../crypto/envelope';
import { BLOB_OVERHEAD, BlobOpener, BlobSealer } from '../format/blob-codec';
import { packEphemeralPublic, readPackEntries } from '../format/pack';
import { PACK_INFO } from '../format/pack-info';
import type { BackupFileJob, BackupFileResult, BlobRef, CheckPackJob, RestoreFileJob, TaskMessage, WorkerMessage, WorkerSetup } from './protocol';

const setup = workerData as WorkerSetup;
const port = parentPort!;
const idKey = Buffer.from(setup.idKey);
const gear = gearTableFromSeed(setup.gearSeed);
const sealer = setup.packKey ? new BlobSealer(Buffer.from(setup.packKey), setup.compressionLevel) : undefined;
const opener = new BlobOpener(idKey);
const packKeys = new Map<string, Buffer>();
let storage: Storage | undefined;

/** Plaintext per dedup round trip: bounds what a worker holds while it waits. */
const ROUND_BYTES = 4 * 1024 * 1024;
/** Files below this are read whole; larger ones stream through a reused buffer. */
const SMALL_FILE = 1024 * 1024;
const readBuffer = Buffer.allocUnsafe(setup.chunker.maxSize + 1024 * 1024);

const dedupAnswers = new Map<number, (ids: string[]) => void>();

function post(message: WorkerMessage, transfer?: ArrayBuffer[]): void {
  port.postMessage(message, transfer);
}

port.on('message', (msg: TaskMessage) => {
  if (msg.type === 'dedup-answer') {
    dedupAnswers.get(msg.taskId)?.(msg.newIds);
    dedupAnswers.delete(msg.taskId);
    return;
  }
  // One task at a time: tasks share readBuffer. The main thread queues the next one early so
  // the worker never idles between tasks.
  queue = queue.then(() => run(msg)).catch((err: Error) => post({ type: 'failed', taskId: msg.taskId, message: err.message }));
});
let queue: Promise<void> = Promise.resolve();

async function run(msg: TaskMessage): Promise<void> {
  switch (msg.type) {
    case 'backup':
      return post({ type: 'backup-done', taskId: msg.taskId, files: await backupFiles(msg.taskId, msg.files) });
    case 'restore':
      return restoreFiles(msg.taskId, msg.files);
    case 'check-pack':
      return checkPack(msg.taskId, msg.pack);
  }
}

interface PendingChunk {
  id: Buffer;
  hex: string;
  data: Uint8Array;
}

async function backupFiles(taskId: number, files: BackupFileJob[]): Promise<BackupFileResult[]> {
  let round: PendingChunk[] = [];
  let roundBytes = 0;

  const add = (data: Uint8Array, content: string[]): void => {
    const id = contentId(idKey, data);
    const hex = id.toString('hex');
    content.push(hex);
    round.push({ id, hex, data });
    roundBytes += data.length;
  };

  // Asks the main thread which chunks are new, seals those, and hands them over.
  const flush = async (): Promise<void> => {
    if (round.length === 0) return;
    const chunks = round;
    round = [];
    roundBytes = 0;
    const answer = new Promise<string[]>((resolve) => dedupAnswers.set(taskId, resolve));
    post({ type: 'dedup-ask', taskId, chunks: chunks.map((c) => [c.hex, c.data.length]) });
    const wanted = new Set(await answer);
    if (wanted.size === 0) return;
    // Sealed size is at most plaintext + 1 (compression byte) + nonce + tag, so one buffer of
    // that bound takes every blob; pages never written take no memory.
    let bound = 0;
    for (const c of chunks) if (wanted.has(c.hex)) bound += c.data.length + BLOB_OVERHEAD;
    const buffer = new ArrayBuffer(bound);
    const view = Buffer.from(buffer);
    const blobs: Array<[string, number, number, number]> = [];
    let offset = 0;
    for (const c of chunks) {
      if (!wanted.delete(c.hex)) continue;
      const length = sealer!.sealInto(view, offset, c.id, c.data);
      blobs.push([c.hex, offset, length, c.data.length]);
      offset += length;
    }
    post({ type: 'sealed', taskId, blobs, buffer }, [buffer]);
  };

  const cutAll = (buf: Buffer, start: number, end: number, eof: boolean, content: string[]): number => {
    while (start < end) {
      const len = findCut(buf, start, end, eof, setup.chunker, gear);
      if (len <= 0) break;
      add(buf.subarray(start, start + len), content);
      start += len;
    }
    return start;
  };

  const results: BackupFileResult[] = [];
  for (const file of files) {
    const content: string[] = [];
    let size = 0;
    try {
      if (file.size < SMALL_FILE) {
        const data = readFileSync(file.path);
        size = data.length;
        if (size > 0) cutAll(data, 0, size, true, content);
      } else {
        size = await streamLargeFile(file.path, cutAll, content, flush);
      }
      results.push({ content, size });
    } catch (err) {
      results.push({ content: [], size: 0, error: describeReadError(err as NodeJS.ErrnoException) });
      // Chunks cut before the failure may point into readBuffer, which the next file reuses.
      await flush();
    }
    if (roundBytes >= ROUND_BYTES) await flush();
  }
  await flush();
  return results;
}

async function streamLargeFile(
  path: string,
  cutAll: (buf: Buffer, start: number, end: number, eof: boolean, content: string[]) => number,
  content: string[],
  flush: () => Promise<void>,
): Promise<number> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let size = 0;
    let start = 0;
    let end = 0;
    let eof = false;
    while (!eof || start < end) {
      while (!eof && end < readBuffer.length) {
        const n = readSync(fd, readBuffer, end, readBuffer.length - end, null);
        if (n === 0) eof = true;
        end += n;
        size += n;
      }
      start = cutAll(readBuffer, start, end, eof, content);
      // The chunks just cut point into readBuffer: they must be sealed before it is refilled.
      await flush();
      readBuffer.copyWithin(0, start, end);
      end -= start;
      start = 0;
    }
    return size;
  } finally {
    closeSync(fd);
  }
}

function describeReadError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'vanished before it could be read';
    case 'ELOOP':
      return 'became a symlink before it could be read';
    default:
      return err.message;
  }
}

function packKeyFor(ephemeralPublicHex: string): Buffer {
  let key = packKeys.get(ephemeralPublicHex);
  if (!key) {
    if (!setup.readPrivateKey) throw new Error('this key can write but not read');
    key = openSealingSession(setup.readPrivateKey, setup.readPublicKey, Buffer.from(ephemeralPublicHex, 'hex'), PACK_INFO);
    packKeys.set(ephemeralPublicHex, key);
  }
  return key;
}

function getStorage(): Storage {
  storage ??= openStorage(setup.storageLocation);
  return storage;
}

/** Files up to this size have their blobs fetched together with the rest of their batch. */
const PREFETCH_FILE_LIMIT = 4 * 1024 * 1024;
/** Blobs this close in a pack are fetched in one read, gap included. */
const READ_GAP = 256 * 1024;
const READ_SPAN = 32 * 1024 * 1024;

/** Pack byte ranges already read: packId → runs sorted by offset. */
type Prefetched = Map<string, Array<{ offset: number; data: Buffer }>>;

async function restoreFiles(taskId: number, files: RestoreFileJob[]): Promise<void> {
  const errors: Array<string | null> = [];
  let bytes = 0;
  // Small files restored together mostly sit side by side in few packs: a handful of reads
  // serve the whole batch instead of one per file.
  const prefetched = await prefetch(files.filter((f) => f.size <= PREFETCH_FILE_LIMIT).flatMap((f) => f.chunks));
  for (const file of files) {
    try {
      bytes += await restoreOne(file, prefetched);
      errors.push(null);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  post({ type: 'restore-done', taskId, errors, bytes });
}

async function prefetch(chunks: BlobRef[]): Promise<Prefetched> {
  const byPack = new Map<string, BlobRef[]>();
  for (const c of chunks) {
    const list = byPack.get(c.packId) ?? [];
    list.push(c);
    byPack.set(c.packId, list);
  }
  const result: Prefetched = new Map();
  for (const [packId, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    const runs: Array<{ offset: number; data: Buffer }> = [];
    let start = list[0].offset;
    let end = start + list[0].length;
    const flushRun = async () => runs.push({ offset: start, data: await getStorage().getRange(`data/${packId}`, start, end - start) });
    for (const c of list.slice(1)) {
      const cEnd = c.offset + c.length;
      if (c.offset - end <= READ_GAP && cEnd - start <= READ_SPAN) {
        end = Math.max(end, cEnd);
        continue;
      }
      await flushRun();
      start = c.offset;
      end = cEnd;
    }
    await flushRun();
    result.set(packId, runs);
  }
  return result;
}

function fromPrefetched(prefetched: Prefetched, c: BlobRef): Buffer | undefined {
  for (const run of prefetched.get(c.packId) ?? []) {
    if (c.offset >= run.offset && c.offset + c.length <= run.offset + run.data.length) {
      return run.data.subarray(c.offset - run.offset, c.offset - run.offset + c.length);
    }
  }
  return undefined;
}

async function restoreOne(file: RestoreFileJob, prefetched: Prefetched): Promise<number> {
  // O_EXCL refuses to follow anything already at the path, symlinks included.
  const fd = openSync(file.path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  let written = 0;
  const write = (c: BlobRef, sealed: Buffer) => {
    const data = opener.open(packKeyFor(c.ephemeralPublic), Buffer.from(c.id, 'hex'), sealed, c.rawLength, `blob ${c.id} in pack ${c.packId}`);
    for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
    written += data.length;
  };
  try {
    let i = 0;
    while (i < file.chunks.length) {
      const ready = fromPrefetched(prefetched, file.chunks[i]);
      if (ready) {
        write(file.chunks[i++], ready);
        continue;
      }
      // Read runs of blobs that lie back to back in one pack with one request.
      let j = i + 1;
      while (
        j < file.chunks.length &&
        file.chunks[j].packId === file.chunks[i].packId &&
        file.chunks[j].offset === file.chunks[j - 1].offset + file.chunks[j - 1].length &&
        file.chunks[j].offset + file.chunks[j].length - file.chunks[i].offset <= READ_SPAN
      ) j++;
      const first = file.chunks[i];
      const last = file.chunks[j - 1];
      const run = await getStorage().getRange(`data/${first.packId}`, first.offset, last.offset + last.length - first.offset);
      for (; i < j; i++) {
        const c = file.chunks[i];
        write(c, run.subarray(c.offset - first.offset, c.offset - first.offset + c.length));
      }
    }
    if (file.chown) fchownSync(fd, file.uid, file.gid);
    fchmodSync(fd, file.mode);
    // Half a microsecond past: libuv truncates to whole microseconds (see restore-snapshot.ts).
    const seconds = (Number(BigInt(file.mtimeNs) / 1000n) + 0.5) / 1e6;
    futimesSync(fd, seconds, seconds);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  closeSync(fd);
  return written;
}

async function checkPack(taskId: number, job: CheckPackJob): Promise<void> {
  const errors: string[] = [];
  const name = job.packId;
  let bytes = 0;
  try {
    const pack = await getStorage().get(`data/${name}`);
    bytes = pack.length;
    if (createHash('sha256').update(pack).digest('hex') !== name) {
      errors.push(`pack ${name}: contents do not match its name (corrupted)`);
    }
    const key = packKeyFor(packEphemeralPublic(pack, name).toString('hex'));
    const entries = readPackEntries(pack, key, name);
    const inPack = new Map(entries.map((e) => [e.id.toString('hex'), e]));
    for (const [id, type, offset, length, rawLength] of job.expected) {
      const e = inPack.get(id);
      if (!e || e.type !== type || e.offset !== offset || e.length !== length || e.rawLength !== rawLength) {
        errors.push(`pack ${name}: blob ${id} is not where the index says`);
        continue;
      }
      try {
        opener.open(key, e.id, pack.subarray(offset, offset + length), rawLength, `blob ${id} in pack ${name}`);
      } catch (err) {
        errors.push((err as Error).message);
      }
    }
  } catch (err) {
    errors.push(`pack ${name}: ${(err as Error).message}`);
  }
  post({ type: 'check-done', taskId, errors, bytes });
}
