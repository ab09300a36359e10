import { Command } from 'commander';
import type { RepositoryView } from '@coffer/contracts';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { formatLocalTime, formatTable } from '../../shared/format';
import { collect } from '../../shared/option-parsers';
import { readPassword } from '../../shared/password';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';

interface AddOptions extends ControllerOptions, JsonOptions {
  url: string;
  passwordFile?: string;
  init?: boolean;
  storageEnv?: string[];
}

/** `coffer repos add|[list]|remove`: the repositories the controller knows and hands to agents. */
export function registerReposCommands(program: Command): void {
  const repos = program.command('repos').description('repositories registered with the controller').helpCommand(false);

  const add = repos
    .command('add')
    .description('register a repository, so that policies can back up into it')
    .argument('<name>', 'name for policies to refer to, e.g. main')
    .requiredOption('--url <location>', 'where the repository is: /path, file:///path, s3:…, azure:…, sftp:…')
    .option('--password-file <file>', 'file holding the repository password (default: $COFFER_PASSWORD_FILE, $COFFER_PASSWORD, or a prompt)')
    .option('--init', 'create the repository in storage if it does not exist yet')
    .option(
      '--storage-env <VAR>',
      'send the value of this variable of your environment as a storage credential, e.g. AWS_SECRET_ACCESS_KEY (repeatable)',
      collect,
    )
    .addHelpText(
      'after',
      `
Secrets never go on the command line: the password comes from a file (or a prompt), storage
credentials from variables of your environment named by --storage-env.

Example:
  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… coffer repos add main --url s3:https://s3.example.com/backups \\
    --password-file ./main.pass --init --storage-env AWS_ACCESS_KEY_ID --storage-env AWS_SECRET_ACCESS_KEY`,
    );
  withJson(withControllerOption(add), 'the registered repository as the API returns it (RepositoryView)').action(
    fleetAction(async (name: string, options: AddOptions) => {
      const out = new Terminal(!!options.json);
      const environment = storageEnvironment(options.storageEnv ?? []);
      const client = connect(options); // before the password: a wrong controller costs no typing
      const password = await readPassword(options, !!options.init);
      const view = await client.createRepository({ name, url: options.url, password, environment, initialize: !!options.init });
      if (out.json) out.printJson(view);
      else out.print(`repository "${view.name}" registered: ${view.url}${view.environmentKeys.length ? ` (credentials: ${view.environmentKeys.join(', ')})` : ''}`);
      return ExitCode.Success;
    }),
  );

  const list = repos.command('list', { isDefault: true }).description('list the registered repositories (the default)');
  withJson(withControllerOption(list), 'the repositories as the API returns them (RepositoryView[])').action(
    fleetAction(async (options: ControllerOptions & JsonOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listRepositories();
      if (out.json) out.printJson(views);
      else out.print(repositoryTable(views));
      return ExitCode.Success;
    }),
  );

  const remove = repos
    .command('remove')
    .description('unregister a repository (refused while a policy uses it); the data in storage is left alone')
    .argument('<name>', 'repository name');
  withControllerOption(remove).action(
    fleetAction(async (name: string, options: ControllerOptions) => {
      await connect(options).deleteRepository(name);
      new Terminal(false).print(`repository "${name}" removed from the controller (its storage was not touched)`);
      return ExitCode.Success;
    }),
  );
}

/** The values of the named variables of this process's environment; a missing one is an error. */
export function storageEnvironment(names: string[], env: NodeJS.ProcessEnv = process.env): Record<string, string> | undefined {
  if (names.length === 0) return undefined;
  const environment: Record<string, string> = {};
  for (const name of names) {
    if (name.includes('=')) throw new CliError(`--storage-env takes the name of a variable, not a value ("${name.split('=')[0]}"): secrets stay off the command line`);
    const value = env[name];
    if (value === undefined || value === '') throw new CliError(`--storage-env ${name}: the variable ${name} is not set in this environment`);
    environment[name] = value;
  }
  return environment;
}

function repositoryTable(views: RepositoryView[]): string {
  if (views.length === 0) return 'no repositories registered: add one with coffer repos add';
  const rows = views.map((r) => [r.name, r.url, r.environmentKeys.join(',') || '-', formatLocalTime(r.createdAt)]);
  return formatTable(['NAME', 'URL', 'CREDENTIALS', 'CREATED'], rows);
}
