import { gearTableFromSeed, StreamChunker } from '../chunker/chunker';
import { isSafeName, TreeNode } from '../format/tree';
import { UsageError } from '../errors';
import type { Repository } from '../repository';
import { BackupOptions, BackupResult, BackupSession } from './backup-session';

/** Plaintext of a stream handed to a worker at once. */
const STREAM_TASK_BYTES = 4 * 1024 * 1024;

/** One file of a stream backup: its name at the snapshot root and where its bytes come from. */
export interface StreamFile {
  name: string;
  /** Called when the file's turn comes; the stream must fail (not end) if its producer failed. */
  open: () => NodeJS.ReadableStream;
}

/** What a stream backup records about its source. */
export interface StreamSnapshotMeta {
  /** "stdin", "command", "postgres", "mysql", "redis". */
  sourceKind: string;
  /** Recorded as the snapshot's paths (for database sources: URLs without password). */
  paths: string[];
}

/**
 * Backs up a byte stream (`pg_dump … | coffer repo backup --stdin`) as one file named
 * `filename` at the snapshot root. The snapshot is written only if the stream ends cleanly:
 * a producer that dies midway leaves an error on the stream and no snapshot.
 */
export async function backupStream(repo: Repository, stream: NodeJS.ReadableStream, filename: string, options: BackupOptions = {}): Promise<BackupResult> {
  if (!isSafeName(filename)) throw new UsageError(`"${filename}" is not a usable file name for --stdin-filename (no slashes, not empty)`);
  return backupStreams(repo, [{ name: filename, open: () => stream }], { sourceKind: 'stdin', paths: [`/${filename}`] }, options);
}

/**
 * Backs up several streams, one after another, as files at the root of ONE snapshot (a
 * database source: its manifest, then one dump per database). The snapshot is written only
 * after every stream ended cleanly; if any fails, the backup fails and no snapshot exists.
 * Chunks already stored stay as unreferenced data for prune, and deduplicate the next try.
 */
export async function backupStreams(repo: Repository, files: StreamFile[], meta: StreamSnapshotMeta, options: BackupOptions = {}): Promise<BackupResult> {
  const names = new Set<string>();
  for (const { name } of files) {
    if (!isSafeName(name)) throw new UsageError(`"${name}" is not a usable file name in a snapshot (no slashes, not empty)`);
    if (names.has(name)) throw new UsageError(`two streams are both named "${name}"`);
    names.add(name);
  }
  const session = await BackupSession.start(repo, options);
  try {
    const gear = gearTableFromSeed(Buffer.from(repo.config.gearSeed, 'base64'));
    const window = session.taskWindow();
    const nodes: TreeNode[] = [];
    for (const file of files) {
      // Cutting is sequential and fast, so it stays here; naming, compressing and sealing
      // the chunks is the expensive part and goes to the workers, a batch at a time.
      const chunker = new StreamChunker(repo.config.chunker, gear);
      const parts: Array<Promise<string[]>> = [];
      let batch: Buffer[] = [];
      let batchBytes = 0;
      const dispatch = async () => {
        if (batch.length === 0) return;
        await window.waitForRoom();
        const part = session.storeChunks(batch);
        window.add(part);
        parts.push(part);
        batch = [];
        batchBytes = 0;
      };
      const store = async (chunks: Buffer[]) => {
        for (const chunk of chunks) {
          batch.push(chunk);
          batchBytes += chunk.length;
        }
        if (batchBytes >= STREAM_TASK_BYTES) await dispatch();
      };
      let size = 0;
      for await (const data of file.open() as AsyncIterable<Buffer>) {
        size += data.length;
        session.stats.bytesRead += data.length;
        session.bytesDone += data.length;
        await store(chunker.push(data));
        session.reportProgress();
      }
      await store(chunker.finish());
      await dispatch();
      const content = (await Promise.all(parts)).flat();
      session.stats.files++;
      session.stats.totalBytes += size;
      nodes.push({
        name: file.name,
        type: 'file',
        mode: 0o600,
        uid: process.getuid?.() ?? 0,
        gid: process.getgid?.() ?? 0,
        mtime: (BigInt(Date.now()) * 1_000_000n).toString(),
        size,
        content,
      });
    }
    const tree = await session.storeTree(nodes);
    return await session.commit({ ...meta, tree });
  } finally {
    await session.close();
  }
}
