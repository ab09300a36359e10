import { readPasswordFile } from '@coffer/sources';
import { CliError } from './cli-error';

/** Where the password of a repository may come from; never the command line, where `ps` shows it. */
export interface PasswordOptions {
  passwordFile?: string;
}

const NO_PASSWORD = 'no password given: use --password-file, COFFER_PASSWORD_FILE or COFFER_PASSWORD';

/**
 * The password to open a repository with: `--password-file`, else `COFFER_PASSWORD_FILE`,
 * else `COFFER_PASSWORD`, else a prompt when stdin is a terminal.
 * `confirm` asks twice at the prompt (a password being chosen, as for `init`).
 */
export async function readPassword(options: PasswordOptions, confirm = false, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  if (options.passwordFile !== undefined) return readPasswordFile(options.passwordFile, '--password-file');
  if (env.COFFER_PASSWORD_FILE) return readPasswordFile(env.COFFER_PASSWORD_FILE, 'COFFER_PASSWORD_FILE');
  if (env.COFFER_PASSWORD !== undefined) return nonEmpty(env.COFFER_PASSWORD, 'COFFER_PASSWORD');
  if (!process.stdin.isTTY) throw new CliError(NO_PASSWORD);
  return confirm ? promptNewPassword('repository password') : nonEmpty(await promptHidden('enter repository password: '), 'the prompt');
}

/** A new password (for `key add`, `key passwd`): `--new-password-file`, else asked twice at a terminal. */
export async function readNewPassword(newPasswordFile: string | undefined): Promise<string> {
  if (newPasswordFile !== undefined) return readPasswordFile(newPasswordFile, '--new-password-file');
  if (!process.stdin.isTTY) throw new CliError('no new password given: use --new-password-file');
  return promptNewPassword('new password');
}

function nonEmpty(password: string, source: string): string {
  if (password === '') throw new CliError(`the password from ${source} is empty: an empty password would not protect anything`);
  return password;
}

async function promptNewPassword(what: string): Promise<string> {
  const first = nonEmpty(await promptHidden(`enter ${what}: `), 'the prompt');
  const second = await promptHidden(`enter ${what} again: `);
  if (first !== second) throw new CliError('the passwords do not match: nothing was changed');
  return first;
}

/** Reads one line from the terminal without echoing it. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  // Raw mode first: keys typed before it would be echoed by the terminal.
  stdin.setRawMode(true);
  process.stderr.write(question);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve, reject) => {
    let input = '';
    const finish = (outcome: () => void) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      outcome();
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return finish(() => resolve(input));
        if (ch === '\u0003') return finish(() => reject(new CliError('interrupted at the password prompt')));
        if (ch === '\u0004' && input === '') return finish(() => reject(new CliError('no password entered')));
        if (ch === '\u007f' || ch === '\b') input = Array.from(input).slice(0, -1).join('');
        else if (ch >= ' ') input += ch;
      }
    };
    stdin.on('data', onData);
  });
}
