import { Command } from 'commander';
import { Repository } from '@coffer/repository';
import { openStorage, usingStorage } from '@coffer/storage';
import { CliError } from './cli-error';
import { PasswordOptions, readPassword } from './password';

/** The options every command that opens a repository takes. */
export interface RepositoryOptions extends PasswordOptions {
  repo?: string;
}

/** Adds `--repo` and `--password-file` to a command. */
export function withRepositoryOptions(command: Command): Command {
  return command
    .option('-r, --repo <location>', 'repository: a local path, file:///path, s3:…, azure:… or sftp:… (default: $COFFER_REPOSITORY)')
    .option('--password-file <file>', 'read the repository password from this file (default: $COFFER_PASSWORD_FILE, $COFFER_PASSWORD, or a prompt)');
}

/** Adds `--json`. */
export function withJsonOption(command: Command): Command {
  return command.option('--json', 'print one JSON document on stdout instead of text');
}

/** The repository location from `--repo` or COFFER_REPOSITORY. */
export function repositoryLocation(options: RepositoryOptions, env: NodeJS.ProcessEnv = process.env): string {
  const location = options.repo ?? env.COFFER_REPOSITORY;
  if (location === undefined || location === '') throw new CliError('no repository given: use --repo or COFFER_REPOSITORY');
  return location;
}

/**
 * Opens the repository, runs `work` with it and closes the storage whatever happens.
 * The location is checked before the password is asked for, so a typo costs no typing.
 */
export function withRepository<T>(options: RepositoryOptions, work: (repo: Repository) => Promise<T>): Promise<T> {
  return withRepositoryAt(repositoryLocation(options), () => readPassword(options), work);
}

/** Opens the repository at `location` with the password `password()` gives, as withRepository does. */
export async function withRepositoryAt<T>(location: string, password: () => Promise<string>, work: (repo: Repository) => Promise<T>): Promise<T> {
  return usingStorage(openStorage(location), async (storage) => {
    const repo = await Repository.open(storage, await password());
    repo.onUnreadableSnapshot = (id, err) => process.stderr.write(`coffer: warning: ${err.message}: left out (run "coffer repo check")\n`);
    return work(repo);
  });
}

/** Creates a repository (`init`); the password is asked for twice at a prompt. */
export async function withNewRepository<T>(options: RepositoryOptions, work: (repo: Repository) => Promise<T>): Promise<T> {
  return usingStorage(openStorage(repositoryLocation(options)), async (storage) => work(await Repository.init(storage, await readPassword(options, true))));
}
