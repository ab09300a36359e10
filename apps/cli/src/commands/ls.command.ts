import { Command } from 'commander';
import { listSnapshot, SnapshotEntry } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { dateFromNs, formatLocalTime, formatMode } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';

interface LsOptions extends RepositoryOptions {
  long?: boolean;
  json?: boolean;
}

/** `coffer repo ls`: the files of a snapshot, depth first. */
export function registerLsCommand(repo: Command): void {
  const command = repo
    .command('ls')
    .description('list the files in a snapshot')
    .argument('<snapshot>', 'snapshot id (at least 4 hex digits) or "latest"')
    .argument('[path]', 'list only this file or directory of the snapshot', '/')
    .option('-l, --long', 'show type, permissions, owner, size and modification time');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (snapshotRef: string, path: string, options: LsOptions) => {
      await withRepository(options, async (repository) => {
        const { snapshot } = await repository.findSnapshot(snapshotRef);
        // Printed as found, so a snapshot of millions of files needs no memory to list.
        let first = true;
        if (options.json) process.stdout.write('[');
        for await (const entry of listSnapshot(repository, snapshot, path)) {
          if (options.json) {
            process.stdout.write(`${first ? '\n' : ',\n'}  ${JSON.stringify(entryJson(entry))}`);
            first = false;
          } else {
            process.stdout.write(`${options.long ? longLine(entry) : entry.path}\n`);
          }
        }
        if (options.json) process.stdout.write(first ? ']\n' : '\n]\n');
      });
      return ExitCode.Success;
    }),
  );
}

function entryJson({ path, node }: SnapshotEntry) {
  return {
    path,
    type: node.type,
    mode: node.mode,
    uid: node.uid,
    gid: node.gid,
    size: node.type === 'file' ? (node.size ?? 0) : null,
    mtime: dateFromNs(node.mtime).toISOString(),
    mtimeNs: node.mtime,
    target: node.type === 'symlink' ? (node.target ?? '') : null,
  };
}

/** Like `ls -l`: "-rw-r--r--  1000  1000       1234  2026-11-21 14:03:07  /srv/app/x". */
function longLine({ path, node }: SnapshotEntry): string {
  const size = node.type === 'file' ? String(node.size ?? 0) : '';
  const name = node.type === 'symlink' ? `${path} -> ${node.target ?? ''}` : path;
  return [formatMode(node.type, node.mode), String(node.uid).padStart(5), String(node.gid).padStart(5), size.padStart(12), formatLocalTime(dateFromNs(node.mtime)), name].join('  ');
}
