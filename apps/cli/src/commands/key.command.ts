import { Command } from 'commander';
import type { KeyInfo } from '@coffer/repository';
import { action } from '../shared/action';
import { ExitCode } from '../shared/exit-codes';
import { formatLocalTime, formatTable, shortId } from '../shared/format';
import { readNewPassword } from '../shared/password';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';

interface KeyOptions extends RepositoryOptions {
  json?: boolean;
}

interface NewPasswordOptions extends KeyOptions {
  newPasswordFile?: string;
}

interface AddKeyOptions extends NewPasswordOptions {
  writeOnly?: boolean;
}

/** `coffer repo key add|list|remove|passwd`: the passwords that open the repository. */
export function registerKeyCommand(repo: Command): void {
  const key = repo.command('key').description('manage the passwords (keys) that open the repository').helpCommand(false);

  const list = key.command('list').description('list the keys of the repository; * marks the one in use');
  withJsonOption(withRepositoryOptions(list)).action(
    action(async (options: KeyOptions) => {
      const out = new Terminal(!!options.json);
      const keys = await withRepository(options, (repository) => repository.listKeys());
      if (out.json) out.printJson(keys.map(keyJson));
      else out.print(keyTable(keys));
      return ExitCode.Success;
    }),
  );

  const add = key
    .command('add')
    .description('add a key for another password; the repository then opens with either')
    .option('--new-password-file <file>', 'read the new password from this file (default: a prompt)')
    .option('--write-only', 'the new key can run backups (deduplicating against stored data) but cannot read, list or restore anything');
  withJsonOption(withRepositoryOptions(add)).action(
    action(async (options: AddKeyOptions) => {
      const out = new Terminal(!!options.json);
      const writeOnly = !!options.writeOnly;
      const id = await withRepository(options, async (repository) => repository.addKey(await readNewPassword(options.newPasswordFile), { writeOnly }));
      if (out.json) out.printJson({ id, writeOnly });
      else out.print(`added ${writeOnly ? 'write-only ' : ''}key ${shortId(id)}`);
      return ExitCode.Success;
    }),
  );

  const remove = key
    .command('remove')
    .description('remove a key: its password no longer opens the repository (the key in use cannot be removed)')
    .argument('<id>', 'key id, or at least its first 4 characters, as "key list" shows it');
  withJsonOption(withRepositoryOptions(remove)).action(
    action(async (id: string, options: KeyOptions) => {
      const out = new Terminal(!!options.json);
      const removed = await withRepository(options, (repository) => repository.removeKey(id));
      if (out.json) out.printJson({ removed });
      else out.print(`removed key ${shortId(removed)}`);
      return ExitCode.Success;
    }),
  );

  const passwd = key
    .command('passwd')
    .description('change the password of the key in use: the old password stops working')
    .option('--new-password-file <file>', 'read the new password from this file (default: a prompt)');
  withJsonOption(withRepositoryOptions(passwd)).action(
    action(async (options: NewPasswordOptions) => {
      const out = new Terminal(!!options.json);
      const { oldId, newId } = await withRepository(options, async (repository) => {
        const password = await readNewPassword(options.newPasswordFile);
        return { oldId: repository.keyId, newId: await repository.changePassword(password) };
      });
      if (out.json) out.printJson({ removed: oldId, added: newId });
      else out.print(`password changed: key ${shortId(oldId)} replaced by key ${shortId(newId)}`);
      return ExitCode.Success;
    }),
  );
}

function keyJson(k: KeyInfo) {
  return {
    id: k.id,
    current: k.current,
    created: k.meta?.created ?? null,
    host: k.meta?.host ?? null,
    username: k.meta?.username ?? null,
    writeOnly: k.meta?.writeOnly ?? null,
  };
}

function keyTable(keys: KeyInfo[]): string {
  const rows = keys.map((k) => [
    `${k.current ? '*' : ' '}${shortId(k.id)}`,
    k.meta ? formatLocalTime(k.meta.created) : '?',
    k.meta?.host ?? '?',
    k.meta?.username ?? '?',
    k.meta ? (k.meta.writeOnly ? 'write-only' : 'full') : 'unreadable',
  ]);
  return formatTable([' ID', 'Created', 'Host', 'User', 'Access'], rows);
}
