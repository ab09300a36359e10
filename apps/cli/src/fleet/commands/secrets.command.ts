import { Command } from 'commander';
import { readPasswordFile } from '@coffer/sources';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { formatLocalTime, formatTable } from '../../shared/format';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';

interface SetOptions extends ControllerOptions, JsonOptions {
  fromFile: string;
}

/**
 * The value in a secret file: its content without the one line break an editor or `echo`
 * leaves at the end, read as every password file is. "-" reads standard input.
 */
export async function readSecretFile(file: string): Promise<string> {
  if (file !== '-') return readPasswordFile(file, '--from-file');
  const value = (await readStdin()).replace(/\r?\n$/, '');
  if (value === '') throw new CliError('standard input is empty: a secret needs a value');
  return value;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** `coffer secrets set|[list]|remove`: named secrets (database passwords) that policies and restores refer to. */
export function registerSecretsCommands(program: Command): void {
  const secrets = program
    .command('secrets')
    .description('secrets kept by the controller (database passwords), named by policies (passwordSecret) and restores (--db-password-secret)')
    .helpCommand(false);

  const set = secrets
    .command('set')
    .description('store or replace a secret; its value is encrypted with the master key and never shown again')
    .argument('<name>', 'name to refer to it by, e.g. pg-backup')
    .requiredOption('--from-file <file>', 'file holding the value (a final line break is dropped); "-" reads standard input')
    .addHelpText('after', '\nValues never go on the command line (ps and shell history would show them).\n\nExample:\n  coffer secrets set pg-backup --from-file ./pg.pass');
  withJson(withControllerOption(set), 'the secret as the API returns it, without its value (SecretView)').action(
    fleetAction(async (name: string, options: SetOptions) => {
      const out = new Terminal(!!options.json);
      const client = connect(options);
      const value = await readSecretFile(options.fromFile);
      const view = await client.setSecret(name, { value });
      if (out.json) out.printJson(view);
      else out.print(`secret "${view.name}" stored`);
      return ExitCode.Success;
    }),
  );

  const list = secrets.command('list', { isDefault: true }).description('list the secrets (names only; the default)');
  withJson(withControllerOption(list), 'the secrets as the API returns them (SecretView[])').action(
    fleetAction(async (options: ControllerOptions & JsonOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listSecrets();
      if (out.json) out.printJson(views);
      else out.print(views.length === 0 ? 'no secrets' : formatTable(['NAME', 'CREATED', 'UPDATED'], views.map((v) => [v.name, formatLocalTime(v.createdAt), formatLocalTime(v.updatedAt)])));
      return ExitCode.Success;
    }),
  );

  const remove = secrets.command('remove').description('remove a secret; jobs that name it then fail').argument('<name>', 'the secret');
  withControllerOption(remove).action(
    fleetAction(async (name: string, options: ControllerOptions) => {
      await connect(options).deleteSecret(name);
      new Terminal(false).print(`secret "${name}" removed`);
      return ExitCode.Success;
    }),
  );
}
