import { Command } from 'commander';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { formatLocalTime } from '../../shared/format';
import { promptHidden } from '../../shared/password';
import { Terminal } from '../../shared/terminal';
import { ControllerClient } from '../controller-client';
import { CredentialsStore, normalizeControllerUrl, StoredCredentials } from '../credentials.store';
import { fleetAction, JsonOptions, withJson } from '../fleet-options';
import { relativeTime } from '../fleet-format';

interface LoginOptions extends JsonOptions {
  controller?: string;
  user?: string;
  passwordStdin?: boolean;
}

/** `coffer login` and `coffer logout`: the session the other commands use. */
export function registerLoginCommands(program: Command): void {
  const login = program
    .command('login')
    .description('log in to a controller; the session is stored for the other commands')
    .option('--controller <url>', 'controller URL, e.g. http://controller:8080 (default: $COFFER_CONTROLLER, else the last one logged in to)')
    .option('-u, --user <name>', 'user name (default: the user of the stored session for that controller)')
    .option('--password-stdin', 'read the password from stdin (one line) instead of a prompt')
    .addHelpText(
      'after',
      `
The session token is kept in $COFFER_CONFIG_DIR/credentials.json (default ~/.config/coffer),
readable by you alone; it is sent only to the controller it came from.

Examples:
  coffer login --controller http://controller:8080 --user admin
  printf '%s\\n' "$PASSWORD" | coffer login --controller http://controller:8080 --user admin --password-stdin`,
    );
  withJson(login, '{ controller, user: UserView, expiresAt } (never the token)').action(
    fleetAction(async (options: LoginOptions) => {
      const out = new Terminal(!!options.json);
      const store = CredentialsStore.fromEnvironment();
      const previous = loadQuietly(store);
      const raw = options.controller ?? (process.env.COFFER_CONTROLLER || undefined) ?? previous?.controller;
      if (raw === undefined) throw new CliError('no controller given: use --controller URL');
      const controller = normalizeControllerUrl(raw);
      const user = options.user ?? (previous && normalizeControllerUrl(previous.controller) === controller ? previous.user : undefined);
      if (!user) throw new CliError('no user given: use --user NAME');
      const password = await readLoginPassword(!!options.passwordStdin, `password for ${user} at ${controller}: `);

      const session = await new ControllerClient({ controller }).login({ username: user, password });
      store.save({ controller, user: session.user.name, token: session.token, expiresAt: session.expiresAt });
      if (out.json) out.printJson({ controller, user: session.user, expiresAt: session.expiresAt });
      else out.print(`logged in to ${controller} as ${session.user.name}; the session expires ${formatLocalTime(session.expiresAt)} (${relativeTime(session.expiresAt)})`);
      return ExitCode.Success;
    }),
  );

  program
    .command('logout')
    .description('forget the stored session (the token stays valid on the controller until it expires)')
    .action(
      fleetAction(async () => {
        const store = CredentialsStore.fromEnvironment();
        const previous = loadQuietly(store);
        const out = new Terminal(false);
        if (!store.remove()) out.print('not logged in: nothing to forget');
        else out.print(previous ? `logged out of ${previous.controller} (the stored session of ${previous.user} was deleted)` : `deleted ${store.file}`);
        return ExitCode.Success;
      }),
    );
}

/** A damaged credentials file must not stop the login that replaces it. */
function loadQuietly(store: CredentialsStore): StoredCredentials | undefined {
  try {
    return store.load();
  } catch {
    return undefined;
  }
}

/** From stdin (one line; the newline is not part of it), else a prompt that does not echo. */
async function readLoginPassword(fromStdin: boolean, question: string): Promise<string> {
  let password: string;
  if (fromStdin) {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  } else if (process.stdin.isTTY) {
    password = await promptHidden(question);
  } else {
    throw new CliError('no password given: stdin is not a terminal, so pass it with --password-stdin');
  }
  if (password === '') throw new CliError(`the password ${fromStdin ? 'read from stdin' : 'entered'} is empty`);
  return password;
}
