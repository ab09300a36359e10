import { Command } from 'commander';
import { removeLocks } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { plural } from '../shared/format';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface UnlockOptions extends RepositoryOptions {
  all?: boolean;
  json?: boolean;
}

/** `coffer repo unlock`: removes locks left by processes that died. */
export function registerUnlockCommand(repo: Command): void {
  const command = repo
    .command('unlock')
    .description('remove stale locks left by processes that are gone')
    .option('--all', 'remove every lock, also those of processes that may still run (only when you are sure none does)');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: UnlockOptions) => {
      const out = new Terminal(!!options.json);
      const removed = await withRepository(options, (repository) => removeLocks(repository, !!options.all));
      if (out.json) out.printJson({ removed });
      else out.print(removed === 0 ? 'no locks to remove' : `removed ${plural(removed, options.all ? 'lock' : 'stale lock')}`);
      return ExitCode.Success;
    }),
  );
}
