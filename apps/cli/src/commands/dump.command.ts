import { Command } from 'commander';
import { dumpFile } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { RepositoryOptions, withRepository, withRepositoryOptions } from '../shared/repository-access';

/** `coffer repo dump`: one file of a snapshot to stdout, e.g. to pipe into pg_restore. */
export function registerDumpCommand(repo: Command): void {
  const command = repo
    .command('dump')
    .description('write one file of a snapshot to standard output')
    .argument('<snapshot>', 'snapshot id (at least 4 hex digits) or "latest"')
    .argument('<path>', 'path of the file in the snapshot (as "ls" shows it)');
  withRepositoryOptions(command).action(
    action(async (snapshotRef: string, path: string, options: RepositoryOptions) => {
      await withRepository(options, async (repository) => {
        const { snapshot } = await repository.findSnapshot(snapshotRef);
        await dumpFile(repository, snapshot, path, process.stdout);
      });
      return ExitCode.Success;
    }),
  );
}
