import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { withPrivateDir } from '../database/connection-url';
import { SnapshotFileOpener, SourceError, SourceManifest, ToolContext } from '../database/database-source';
import { runTool, ToolFailedError } from '../process/run-tool';
import { findOnPath } from '../process/tool-detector';

/**
 * Checks a Redis snapshot without restoring it: each RDB is copied to a private temporary
 * file (redis-check-rdb reads only files) and checked there. Returns one line per file
 * ("dump.rdb: RDB OK, 1200 keys, 56789 bytes"); throws SourceError quoting what
 * redis-check-rdb found wrong.
 */
export async function verifyRedisSnapshot(manifest: SourceManifest, open: SnapshotFileOpener, context: ToolContext): Promise<string[]> {
  const rdbs = manifest.items.filter((item) => item.content === 'rdb');
  if (rdbs.length === 0) throw new SourceError('this snapshot holds no Redis RDB file');
  const checker = await findOnPath('redis-check-rdb', context.path ?? process.env.PATH ?? '');
  if (!checker) throw new SourceError('redis-check-rdb is not on the PATH: install redis-server (it ships redis-check-rdb) to verify a Redis snapshot');
  const lines: string[] = [];
  for (const item of rdbs) {
    lines.push(
      await withPrivateDir(context, async (dir) => {
        const copy = join(dir, 'check.rdb');
        await pipeline(open(item.file), createWriteStream(copy, { mode: 0o600 }), ...(context.signal ? [{ signal: context.signal }] : []));
        const keys = await checkRdb(checker, copy, item.file, context);
        return `${item.file}: RDB OK, ${keys} keys, ${(await stat(copy)).size} bytes`;
      }),
    );
  }
  return lines;
}

/** Runs redis-check-rdb on `path`; resolves with the key count it read. */
async function checkRdb(checker: string, path: string, name: string, context: ToolContext): Promise<number> {
  // redis-check-rdb reports on stdout, also when it fails; runTool keeps only stderr then.
  const report: string[] = [];
  try {
    await runTool(checker, [path], { onStdoutLine: (line) => report.push(line), signal: context.signal, label: 'redis-check-rdb' });
  } catch (err) {
    if (!(err instanceof ToolFailedError) || err.exitCode === null) throw err;
    const detected = report.findIndex((line) => line.includes('RDB ERROR DETECTED'));
    const reason = (detected >= 0 ? report[detected + 1] : undefined) ?? report.filter((line) => line.trim() !== '').pop() ?? err.message;
    throw new SourceError(`${name} is damaged: redis-check-rdb says "${reason.trim()}"`);
  }
  return Number(/\[info\] (\d+) keys read/.exec(report.join('\n'))?.[1] ?? 0);
}
