import { SnapshotFileOpener, SourceError, SourceManifest, ToolContext } from '../database/database-source';

/** How much of a dump's end is kept while it streams past: the trailer line and some slack. */
const TAIL_BYTES = 4096;
/** The last line mysqldump and mariadb-dump write, only once everything else is out. */
const DUMP_TRAILER = /-- Dump completed[^\n]*\s*$/;

/**
 * Checks a MariaDB/MySQL snapshot without restoring it: every dump ends with the dump tool's
 * "-- Dump completed" line, so it was not cut short. Reads each file once, keeping only its
 * tail. Returns one line per file ("shop.sql: complete, 1234567 bytes"); throws SourceError
 * naming the first file that is not complete.
 */
export async function verifyMysqlSnapshot(manifest: SourceManifest, open: SnapshotFileOpener, context: ToolContext): Promise<string[]> {
  const dumps = manifest.items.filter((item) => item.content === 'database');
  if (dumps.length === 0) throw new SourceError('this snapshot holds no MariaDB/MySQL database dump');
  const lines: string[] = [];
  for (const item of dumps) {
    context.signal?.throwIfAborted();
    const { bytes, tail } = await readTail(open(item.file));
    if (!DUMP_TRAILER.test(tail.toString('utf8'))) {
      throw new SourceError(`${item.file} is not complete: it does not end with the dump tool's "-- Dump completed" line (${bytes} bytes)`);
    }
    lines.push(`${item.file}: complete, ${bytes} bytes`);
  }
  return lines;
}

async function readTail(stream: NodeJS.ReadableStream): Promise<{ bytes: number; tail: Buffer }> {
  let bytes = 0;
  let tail = Buffer.alloc(0);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    tail = Buffer.concat([tail, chunk]);
    if (tail.length > TAIL_BYTES) tail = Buffer.from(tail.subarray(tail.length - TAIL_BYTES));
  }
  return { bytes, tail };
}
