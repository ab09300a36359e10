import { createHash } from 'node:crypto';
import { closeSync, constants, fchmodSync, fchownSync, futimesSync, openSync, readSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { isLocalLocation, openStorage, Storage } from '@coffer/storage';
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
// Every blob a worker opens is written out or dropped before the next is opened.
const opener = new BlobOpener(idKey, true);
const packKeys = new Map<string, Buffer>();
let storage: Storage | undefined;

/** Plaintext per dedup round trip: bounds what a worker holds while it waits. */
const ROUND_BYTES = 4 * 1024 * 1024;
/** Files below this are read whole; larger ones stream through a reused buffer. */
const SMALL_FILE = 1024 * 1024;
/**
 * The one read buffer: a large file streams through it, and the small files of a round are
 * read into it side by side (a round is flushed before a large file starts), so reading
 * allocates nothing: per-file buffers are garbage the allocator rarely hands back.
 */
const readBuffer = Buffer.allocUnsafe(Math.max(setup.chunker.maxSize + 1024 * 1024, ROUND_BYTES + 2 * SMALL_FILE));
/** Bytes of readBuffer holding small files of the current round. */
let arenaUsed = 0;
/** Sealed-round buffers the main thread handed back (see 'buffer-return'). */
const spareSealedBuffers: ArrayBuffer[] = [];
const MAX_SPARE_SEALED_BUFFERS = 2;

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
  if (msg.type === 'buffer-return') {
    if (spareSealedBuffers.length < MAX_SPARE_SEALED_BUFFERS) spareSealedBuffers.push(msg.buffer);
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
    case 'backup-chunks':
      return post({ type: 'chunks-done', taskId: msg.taskId, content: await backupChunks(msg.taskId, msg.chunks) });
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

/**
 * The chunks a task has cut and not yet handed over: flush() asks the main thread which are
 * new, seals those into one buffer and sends it.
 */
class Round {
  private chunks: PendingChunk[] = [];
  bytes = 0;

  constructor(private readonly taskId: number) {}

  /** Names a chunk (appending its id to `content`) and keeps it for the next flush. */
  add(data: Uint8Array, content: string[]): void {
    const id = contentId(idKey, data);
    const hex = id.toString('hex');
    content.push(hex);
    this.chunks.push({ id, hex, data });
    this.bytes += data.length;
  }

  async flush(): Promise<void> {
    if (this.chunks.length === 0) return;
    const chunks = this.chunks;
    this.chunks = [];
    this.bytes = 0;
    // Once the chunks are sealed (below), nothing points into the arena any more.
    arenaUsed = 0;
    const answer = new Promise<string[]>((resolve) => dedupAnswers.set(this.taskId, resolve));
    post({ type: 'dedup-ask', taskId: this.taskId, chunks: chunks.map((c) => [c.hex, c.data.length]) });
    const wanted = new Set(await answer);
    if (wanted.size === 0) return;
    // Sealed size is at most plaintext + 1 (compression byte) + nonce + tag, so one buffer of
    // that bound takes every blob.
    let bound = 0;
    for (const c of chunks) if (wanted.has(c.hex)) bound += c.data.length + BLOB_OVERHEAD;
    const buffer = sealedBufferOf(bound);
    const view = Buffer.from(buffer);
    const blobs: Array<[string, number, number, number]> = [];
    let offset = 0;
    for (const c of chunks) {
      if (!wanted.delete(c.hex)) continue;
      const length = sealer!.sealInto(view, offset, c.id, c.data);
      blobs.push([c.hex, offset, length, c.data.length]);
      offset += length;
    }
    post({ type: 'sealed', taskId: this.taskId, blobs, buffer }, [buffer]);
  }

  /** Cuts buf[start, end) into chunks; returns where the unfinished tail starts. */
  cutAll(buf: Buffer, start: number, end: number, eof: boolean, content: string[]): number {
    while (start < end) {
      const len = findCut(buf, start, end, eof, setup.chunker, gear);
      if (len <= 0) break;
      this.add(buf.subarray(start, start + len), content);
      start += len;
    }
    return start;
  }
}

async function backupFiles(taskId: number, files: BackupFileJob[]): Promise<BackupFileResult[]> {
  const round = new Round(taskId);
  const results: BackupFileResult[] = [];
  for (const file of files) {
    let content: string[] = [];
    let size: number | undefined;
    try {
      if (file.size < SMALL_FILE) {
        if (readBuffer.length - arenaUsed <= SMALL_FILE) await round.flush();
        size = readIntoArena(file.path);
        if (size !== undefined && size > 0) round.cutAll(readBuffer, arenaUsed, arenaUsed + size, true, content);
        if (size !== undefined) arenaUsed += size;
      }
      if (size === undefined) {
        // Large, or grown past the small-file limit since it was listed. Flushing first keeps
        // every round within one read buffer (see sealedBufferOf).
        content = [];
        await round.flush();
        size = await streamLargeFile(file.path, round, content);
      }
      results.push({ content, size });
    } catch (err) {
      results.push({ content: [], size: 0, error: describeReadError(err as NodeJS.ErrnoException) });
      // Chunks cut before the failure may point into readBuffer, which the next file reuses.
      await round.flush();
    }
    if (round.bytes >= ROUND_BYTES) await round.flush();
  }
  await round.flush();
  return results;
}

/** Names, deduplicates and seals chunks the main thread cut from a stream; returns their ids in order. */
async function backupChunks(taskId: number, chunks: ArrayBuffer[]): Promise<string[]> {
  const round = new Round(taskId);
  const content: string[] = [];
  for (const chunk of chunks) {
    round.add(new Uint8Array(chunk), content);
    if (round.bytes >= ROUND_BYTES) await round.flush();
  }
  await round.flush();
  return content;
}

/**
 * Reads a small file whole into the arena after what is there; returns its size, or
 * undefined when it no longer fits (it grew since it was listed): then it is streamed.
 */
function readIntoArena(path: string): number | undefined {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    let end = arenaUsed;
    for (;;) {
      if (end === readBuffer.length) return undefined;
      const n = readSync(fd, readBuffer, end, readBuffer.length - end, null);
      if (n === 0) return end - arenaUsed;
      end += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** A buffer for one round's sealed blobs: a spare handed back by the main thread if one is big enough. */
function sealedBufferOf(bytes: number): ArrayBuffer {
  const i = spareSealedBuffers.findIndex((b) => b.byteLength >= bytes);
  if (i >= 0) return spareSealedBuffers.splice(i, 1)[0];
  // A round is at most one read buffer of plaintext (a streamed file's) or ROUND_BYTES plus
  // one small file; sized for the largest, a buffer serves any later round.
  return new ArrayBuffer(Math.max(bytes, readBuffer.length + (1 << 16)));
}

async function streamLargeFile(path: string, round: Round, content: string[]): Promise<number> {
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
      start = round.cutAll(readBuffer, start, end, eof, content);
      // The chunks just cut point into readBuffer: they must be sealed before it is refilled.
      await round.flush();
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
/** Longest read: a large file arrives in runs of at most this, each decrypted while later ones download. */
const READ_SPAN = 8 * 1024 * 1024;
/**
 * Remote storage: pack reads in flight at once per worker, so its latency (an S3 round trip)
 * overlaps decryption and writing instead of adding to them. On a local disk a read is a copy
 * from the page cache, and reads in flight only cost memory (about 100 MiB more peak RSS on
 * the benchmark's restore): one at a time there.
 */
const REMOTE_STORAGE = !isLocalLocation(setup.storageLocation);
const READS_IN_FLIGHT = REMOTE_STORAGE ? 4 : 1;
/** Reads of a large file started ahead of the run being written: bounds what a file holds to (1 + this) × READ_SPAN. */
const READ_AHEAD = REMOTE_STORAGE ? 2 : 0;

let readsRunning = 0;
const readSlotWaiters: Array<() => void> = [];

/** Reads a pack range once fewer than READS_IN_FLIGHT reads run; first come, first served. */
async function readPackRange(packId: string, offset: number, length: number): Promise<Buffer> {
  while (readsRunning >= READS_IN_FLIGHT) await new Promise<void>((resolve) => readSlotWaiters.push(resolve));
  readsRunning++;
  try {
    return await getStorage().getRange(`data/${packId}`, offset, length);
  } finally {
    readsRunning--;
    readSlotWaiters.shift()?.();
  }
}

/** Pack byte ranges being read or read: packId → runs sorted by offset. */
type Prefetched = Map<string, Array<{ offset: number; length: number; data: Promise<Buffer> }>>;

async function restoreFiles(taskId: number, files: RestoreFileJob[]): Promise<void> {
  const errors: Array<string | null> = [];
  let bytes = 0;
  // Small files restored together mostly sit side by side in few packs: a handful of reads
  // serve the whole batch instead of one per file. The reads run while the first files are
  // written; a failed read fails only the files that need it.
  const prefetched = prefetch(files.filter((f) => f.size <= PREFETCH_FILE_LIMIT).flatMap((f) => f.chunks));
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

/** Starts the reads of `chunks` (in the order they are first needed), coalesced per pack; does not wait for them. */
function prefetch(chunks: BlobRef[]): Prefetched {
  const byPack = new Map<string, BlobRef[]>();
  for (const c of chunks) {
    const list = byPack.get(c.packId) ?? [];
    list.push(c);
    byPack.set(c.packId, list);
  }
  const order = new Map(chunks.map((c, i) => [c, i]));
  const planned: Array<{ packId: string; offset: number; length: number; firstNeeded: number }> = [];
  for (const [packId, list] of byPack) {
    list.sort((a, b) => a.offset - b.offset);
    let start = list[0].offset;
    let end = start + list[0].length;
    let firstNeeded = order.get(list[0])!;
    for (const c of list.slice(1)) {
      const cEnd = c.offset + c.length;
      if (c.offset - end <= READ_GAP && cEnd - start <= READ_SPAN) {
        end = Math.max(end, cEnd);
        firstNeeded = Math.min(firstNeeded, order.get(c)!);
        continue;
      }
      planned.push({ packId, offset: start, length: end - start, firstNeeded });
      start = c.offset;
      end = cEnd;
      firstNeeded = order.get(c)!;
    }
    planned.push({ packId, offset: start, length: end - start, firstNeeded });
  }
  planned.sort((a, b) => a.firstNeeded - b.firstNeeded);
  const result: Prefetched = new Map();
  for (const run of planned) {
    const data = readPackRange(run.packId, run.offset, run.length);
    // Awaited by the files that need it; not an unhandled rejection meanwhile.
    data.catch(() => undefined);
    const runs = result.get(run.packId) ?? [];
    runs.push({ offset: run.offset, length: run.length, data });
    result.set(run.packId, runs);
  }
  for (const runs of result.values()) runs.sort((a, b) => a.offset - b.offset);
  return result;
}

function fromPrefetched(prefetched: Prefetched, c: BlobRef): { offset: number; data: Promise<Buffer> } | undefined {
  for (const run of prefetched.get(c.packId) ?? []) {
    if (c.offset >= run.offset && c.offset + c.length <= run.offset + run.length) return run;
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
  // The file in steps, each chunks [from, to) within one buffer starting at pack offset `base`:
  // a prefetched run, or a run of blobs back to back in one pack read with one request.
  const steps: Array<{ from: number; to: number; base: number; fetch?: () => Promise<Buffer>; data?: Promise<Buffer> }> = [];
  for (let i = 0; i < file.chunks.length; ) {
    const ready = fromPrefetched(prefetched, file.chunks[i]);
    if (ready) {
      steps.push({ from: i, to: i + 1, base: ready.offset, data: ready.data });
      i++;
      continue;
    }
    let j = i + 1;
    while (
      j < file.chunks.length &&
      file.chunks[j].packId === file.chunks[i].packId &&
      file.chunks[j].offset === file.chunks[j - 1].offset + file.chunks[j - 1].length &&
      file.chunks[j].offset + file.chunks[j].length - file.chunks[i].offset <= READ_SPAN
    ) j++;
    const first = file.chunks[i];
    const last = file.chunks[j - 1];
    steps.push({ from: i, to: j, base: first.offset, fetch: () => readPackRange(first.packId, first.offset, last.offset + last.length - first.offset) });
    i = j;
  }
  // Reads start up to READ_AHEAD steps ahead of the one written, so the next runs download
  // while this one is decrypted and written.
  let started = 0;
  let ahead = 0;
  const startReads = (current: number) => {
    for (; started < steps.length && (ahead < READ_AHEAD || started <= current); started++) {
      const step = steps[started];
      if (!step.fetch) continue;
      step.data = step.fetch();
      // Awaited in turn below; not an unhandled rejection if an earlier step fails first.
      step.data.catch(() => undefined);
      ahead++;
    }
  };
  try {
    for (let s = 0; s < steps.length; s++) {
      startReads(s);
      const step = steps[s];
      const run = await step.data!;
      step.data = undefined;
      if (step.fetch) ahead--;
      startReads(s);
      for (let i = step.from; i < step.to; i++) {
        const c = file.chunks[i];
        write(c, run.subarray(c.offset - step.base, c.offset - step.base + c.length));
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
