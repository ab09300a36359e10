import { gearTableFromSeed, StreamChunker } from '../chunker/chunker';
import { BlobType } from '../format/pack';
import { isSafeName } from '../format/tree';
import { UsageError } from '../errors';
import type { Repository } from '../repository';
import { BackupOptions, BackupResult, BackupSession } from './backup-session';

/**
 * Backs up a byte stream (`pg_dump … | coffer repo backup --stdin`) as one file named
 * `filename` at the snapshot root. The snapshot is written only if the stream ends cleanly:
 * a producer that dies midway leaves an error on the stream and no snapshot.
 */
export async function backupStream(repo: Repository, stream: NodeJS.ReadableStream, filename: string, options: BackupOptions = {}): Promise<BackupResult> {
  if (!isSafeName(filename)) throw new UsageError(`"${filename}" is not a usable file name for --stdin-filename (no slashes, not empty)`);
  const session = await BackupSession.start(repo, { ...options, workers: 1 });
  try {
    const chunker = new StreamChunker(repo.config.chunker, gearTableFromSeed(Buffer.from(repo.config.gearSeed, 'base64')));
    const content: string[] = [];
    const store = async (chunks: Buffer[]) => {
      for (const chunk of chunks) content.push(await session.storeBlob(BlobType.Data, chunk));
    };
    let size = 0;
    for await (const data of stream as AsyncIterable<Buffer>) {
      size += data.length;
      session.stats.bytesRead = size;
      session.bytesDone = size;
      await store(chunker.push(data));
      session.reportProgress();
    }
    await store(chunker.finish());
    session.stats.files = 1;
    session.stats.totalBytes = size;
    const now = BigInt(Date.now()) * 1_000_000n;
    const tree = await session.storeTree([
      {
        name: filename,
        type: 'file',
        mode: 0o600,
        uid: process.getuid?.() ?? 0,
        gid: process.getgid?.() ?? 0,
        mtime: now.toString(),
        size,
        content,
      },
    ]);
    return await session.commit({ sourceKind: 'stdin', paths: [`/${filename}`], tree });
  } finally {
    await session.close();
  }
}
