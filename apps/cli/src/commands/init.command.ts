import { Command } from 'commander';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { RepositoryOptions, withJsonOption, withNewRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface InitOptions extends RepositoryOptions {
  json?: boolean;
}

/** `coffer repo init`: creates an empty repository protected by one password. */
export function registerInitCommand(repo: Command): void {
  const command = repo.command('init').description('create a new, empty repository');
  withJsonOption(withRepositoryOptions(command)).action(
    action(async (options: InitOptions) => {
      const out = new Terminal(!!options.json);
      await withNewRepository(options, async (repository) => {
        const location = repository.storage.location;
        if (out.json) return out.printJson({ id: repository.config.id, location });
        out.print(`created repository ${repository.config.id} at ${location}`);
        out.print('');
        out.print('Keep the password safe: without it the data in this repository cannot be read by anyone, you included.');
      });
      return ExitCode.Success;
    }),
  );
}
