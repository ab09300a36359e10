import { Command, InvalidArgumentError } from 'commander';
import type { CreateJoinTokenRequest, JoinTokenView } from '@coffer/contracts';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { formatLocalTime, formatTable, plural } from '../../shared/format';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { formatLabels, parseLabels, relativeTime } from '../fleet-format';

interface CreateOptions extends ControllerOptions, JsonOptions {
  labels?: Record<string, string>;
  ttl?: string;
  uses?: number;
}

/** `coffer tokens create|list`: join tokens, with which agents enroll. */
export function registerTokensCommands(program: Command): void {
  const tokens = program.command('tokens').description('join tokens, with which new agents enroll').helpCommand(false);

  const create = tokens
    .command('create')
    .description('create a join token; only the token is printed on stdout, so T=$(coffer tokens create) works')
    .option('--labels <k=v,...>', 'labels the enrolled agent gets, e.g. role=web,env=prod (repeatable)', parseLabels)
    .option('--ttl <duration>', 'how long the token is valid, e.g. 15m, 1h, 7d (default: 1h)')
    .option('--uses <n>', 'how many agents may enroll with it (default: 1)', positiveWholeNumber)
    .addHelpText('after', '\nExample:\n  coffer-agent enroll --token "$(coffer tokens create --labels role=db --ttl 15m)" …');
  withJson(withControllerOption(create), 'the token with its details, as the API returns it (CreatedJoinToken)').action(
    fleetAction(async (options: CreateOptions) => {
      const out = new Terminal(!!options.json);
      if (options.ttl !== undefined) await checkDuration('--ttl <duration>', options.ttl);
      const request: CreateJoinTokenRequest = { labels: options.labels, ttl: options.ttl, uses: options.uses };
      const created = await connect(options).createJoinToken(request);
      if (out.json) {
        out.printJson(created);
      } else {
        const labels = Object.keys(created.labels).length > 0 ? `, labels ${formatLabels(created.labels)}` : '';
        process.stderr.write(
          `join token ${created.id}: ${plural(created.usesAllowed, 'enrollment')}, expires ${formatLocalTime(created.expiresAt)} (${relativeTime(created.expiresAt)})${labels}\n`,
        );
        process.stdout.write(`${created.token}\n`);
      }
      return ExitCode.Success;
    }),
  );

  const list = tokens.command('list', { isDefault: true }).description('list the join tokens (never their secrets)');
  withJson(withControllerOption(list), 'the tokens as the API returns them, without secrets (JoinTokenView[])').action(
    fleetAction(async (options: ControllerOptions & JsonOptions) => {
      const out = new Terminal(!!options.json);
      const views = await connect(options).listJoinTokens();
      if (out.json) out.printJson(views);
      else out.print(tokenTable(views));
      return ExitCode.Success;
    }),
  );
}

function tokenTable(tokens: JoinTokenView[]): string {
  if (tokens.length === 0) return 'no join tokens';
  const now = Date.now();
  const rows = tokens.map((t) => [
    t.id,
    formatLabels(t.labels),
    `${t.usesLeft}/${t.usesAllowed}`,
    Date.parse(t.expiresAt) <= now ? `expired ${relativeTime(t.expiresAt, now)}` : relativeTime(t.expiresAt, now),
    formatLocalTime(t.createdAt),
  ]);
  return formatTable(['ID', 'LABELS', 'USES LEFT', 'EXPIRES', 'CREATED'], rows, [2]);
}

/** A duration the controller accepts ("15m", "1h30m"), checked before anything is sent. */
async function checkDuration(option: string, value: string): Promise<void> {
  // Loaded here, not at start-up: the contracts' runtime is not needed by other commands.
  const { parseDurationSeconds } = await import('@coffer/contracts');
  if (!parseDurationSeconds(value)) throw new CliError(`option '${option}' argument '${value}' is invalid. give a duration such as 15m, 1h, 7d or 1h30m.`);
}

function positiveWholeNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('give a whole number, 1 or more.');
  return n;
}
