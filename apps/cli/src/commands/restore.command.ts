import { resolve } from 'node:path';
import { Command } from 'commander';
import { restoreSnapshot } from '@coffer/repository';
import { action } from '../shared/action';
import { CliError } from '../shared/cli-error';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, formatDuration, plural, shortId } from '../shared/format';
import { collect } from '../shared/option-parsers';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface RestoreCommandOptions extends RepositoryOptions {
  target?: string;
  include?: string[];
  overwrite?: boolean;
  json?: boolean;
}

/** `coffer repo restore`: a snapshot back onto disk, under a target directory. */
export function registerRestoreCommand(repo: Command): void {
  const command = repo
    .command('restore')
    .description('restore a snapshot into a directory: contents, modes, mtimes (and owners when run as root)')
    .argument('<snapshot>', 'snapshot id (at least 4 hex digits) or "latest"')
    .option('-t, --target <dir>', 'directory to restore into (created if missing; must be empty unless --overwrite)')
    .option('-i, --include <pattern>', 'restore only paths matching this glob (repeatable; a pattern with "/" matches snapshot paths, else names)', collect)
    .option('--overwrite', 'restore into a non-empty directory, replacing what is in the way');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (snapshotRef: string, options: RestoreCommandOptions) => {
      if (!options.target) throw new CliError('no target given: use --target DIR (an empty or new directory)');
      const target = resolve(options.target);
      const out = new Terminal(!!options.json);
      const started = Date.now();
      const { ref, result } = await withRepository(options, async (repository) => {
        const ref = await repository.findSnapshot(snapshotRef);
        // Without --include the snapshot says how much there is to write, which gives an ETA.
        const whole = options.include === undefined;
        const totalBytes = whole ? ref.snapshot.stats.totalBytes : undefined;
        const totalFiles = whole ? ref.snapshot.stats.files : undefined;
        const result = await restoreSnapshot(repository, ref.snapshot, {
          target,
          include: options.include,
          overwrite: !!options.overwrite,
          onProgress: (p) => out.progress({ count: { done: p.files, total: totalFiles, noun: 'files' }, bytesDone: p.bytes, totalBytes }),
        });
        return { ref, result };
      });
      out.clearProgress();
      for (const error of result.errors) out.problem(error);
      if (out.json) {
        out.printJson({ snapshotId: ref.id, target, files: result.files, dirs: result.dirs, symlinks: result.symlinks, bytes: result.bytes, errors: result.errors });
      } else {
        out.print(
          `restored ${plural(result.files, 'file')}, ${plural(result.dirs, 'directory', 'directories')}, ${plural(result.symlinks, 'symlink')} ` +
            `(${formatBytes(result.bytes)}) from snapshot ${shortId(ref.id)} to ${target} in ${formatDuration(Date.now() - started)}`,
        );
      }
      if (result.errors.length > 0) throw new CliError(`${plural(result.errors.length, 'path')} could not be restored (named above); the others were restored`);
      return ExitCode.Success;
    }),
  );
}
