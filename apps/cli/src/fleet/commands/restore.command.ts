import { Command } from 'commander';
import type { HookInput, RestoreDatabaseTarget, RestoreRequest } from '@coffer/contracts';
import { CliError } from '../../shared/cli-error';
import { ExitCode } from '../../shared/exit-codes';
import { collect } from '../../shared/option-parsers';
import { chooseRestoreTarget, DatabaseRestoreOptions, withDatabaseRestoreOptions } from '../../shared/restore-target';
import { Terminal } from '../../shared/terminal';
import { connect, ControllerOptions, fleetAction, JsonOptions, withControllerOption, withJson } from '../fleet-options';
import { describeJob } from '../fleet-format';
import { requireSuccess, waitForJobs } from '../job-wait';

interface RestoreOptions extends ControllerOptions, JsonOptions, DatabaseRestoreOptions {
  agent?: string;
  target?: string;
  include?: string[];
  dbPasswordSecret?: string;
  before?: string[];
  after?: string[];
  wait?: boolean;
}

/**
 * The restore request the options describe: into a directory (--target) or a database
 * (--postgres URL | --mysql URL | --redis-dir DIR). Exactly one of them.
 */
export function toRestoreRequest(snapshot: string, options: RestoreOptions): RestoreRequest {
  const chosen = chooseRestoreTarget(options, [
    ['--include', options.include, ['--target']],
    ['--db-password-secret', options.dbPasswordSecret, ['--postgres', '--mysql']],
  ]);
  if (!chosen) throw new CliError('say where to restore: --target DIR, --postgres URL, --mysql URL or --redis-dir DIR');

  const hooks = hooksOf(options);
  const base = { snapshot, agent: options.agent!, ...(hooks ? { hooks } : {}) };
  if (options.target !== undefined) {
    if (!options.target.startsWith('/')) throw new CliError(`--target must be an absolute directory on the host of agent "${options.agent}", such as /srv/restore`);
    return { ...base, target: options.target, include: options.include };
  }
  const secret = options.dbPasswordSecret !== undefined ? { passwordSecret: options.dbPasswordSecret } : {};
  const clean = options.clean ? { clean: true } : {};
  const sourceDatabase = options.database !== undefined ? { sourceDatabase: options.database } : {};
  let database: RestoreDatabaseTarget;
  if (options.postgres !== undefined) {
    database = {
      postgres: {
        url: options.postgres,
        ...clean,
        ...(options.schema ? { schemas: options.schema } : {}),
        ...(options.jobs !== undefined ? { jobs: options.jobs } : {}),
        ...sourceDatabase,
        ...(options.globals ? { globals: true } : {}),
        ...(options.owner === false ? { noOwner: true } : {}),
        ...secret,
      },
    };
  } else if (options.mysql !== undefined) {
    database = { mysql: { url: options.mysql, ...clean, ...sourceDatabase, ...secret } };
  } else {
    if (!options.redisDir!.startsWith('/')) throw new CliError(`--redis-dir must be an absolute directory on the host of agent "${options.agent}", such as /var/lib/redis`);
    database = { redis: { dir: options.redisDir!, ...clean } };
  }
  return { ...base, database };
}

function hooksOf(options: RestoreOptions): { before: HookInput[]; after: HookInput[] } | undefined {
  const before = (options.before ?? []).map((run) => ({ run }));
  const after = (options.after ?? []).map((run) => ({ run }));
  return before.length > 0 || after.length > 0 ? { before, after } : undefined;
}

/** Where a restore request goes, for the "started" line (URLs never carry a password). */
function describeTarget(request: RestoreRequest): string {
  const d = request.database;
  if (!d) return request.target!;
  if ('postgres' in d) return d.postgres.url;
  if ('mysql' in d) return d.mysql.url;
  return `Redis data directory ${d.redis.dir}`;
}

/** `coffer restore SNAPSHOT --agent A (--target DIR | --postgres URL | --mysql URL | --redis-dir DIR)`: a restore job, run by an agent. */
export function registerRestoreCommand(program: Command): void {
  const restore = program
    .command('restore')
    .description("restore a catalog snapshot on an agent's host, or a database snapshot into a database (coffer repo restore restores here, from a repository)")
    .argument('<snapshot>', 'snapshot id, or a unique prefix of one, as coffer snapshots shows it')
    .requiredOption('--agent <name>', 'the agent that restores (onto its own host, or connecting to the database server)')
    .option('--target <dir>', 'absolute directory on that host to restore into')
    .option('--include <pattern>', 'restore only paths matching this glob (repeatable; --target only)', collect)
    .option('--db-password-secret <name>', 'the secret (coffer secrets set) holding the target database password')
    .option('--before <command>', 'run this on the agent before the restore; its failure stops it (repeatable)', collect)
    .option('--after <command>', 'run this on the agent after the restore, whatever happened (repeatable)', collect)
    .option('--wait', 'wait for the restore to end, showing progress; exit 0 only if it succeeded')
    .addHelpText(
      'after',
      `
Examples:
  coffer restore 3f9a1c2e --agent web-2 --target /srv/restore --wait
  coffer restore 3f9a1c2e --agent db-2 --postgres postgres://root@127.0.0.1:5432/app_copy --clean --wait
  coffer restore 3f9a1c2e --agent db-2 --mysql mysql://root@127.0.0.1:3306/shop_copy --db-password-secret maria-root
  coffer restore 3f9a1c2e --agent cache-1 --redis-dir /var/lib/redis --clean \\
    --before "systemctl stop redis" --after "systemctl start redis"`,
    );
  withJson(withControllerOption(withDatabaseRestoreOptions(restore)), 'the restore job (JobView); with --wait, its final detail (JobDetailView)').action(
    fleetAction(async (snapshot: string, options: RestoreOptions) => {
      const out = new Terminal(!!options.json);
      const request = toRestoreRequest(snapshot, options);
      const client = connect(options);
      const job = await client.startRestore(request);
      out.print(`started ${describeJob(job)}: snapshot ${snapshot} into ${describeTarget(request)}`);
      if (!options.wait) {
        if (out.json) out.printJson(job);
        return ExitCode.Success;
      }
      const [final] = await waitForJobs(client, [job], out);
      if (out.json) out.printJson(final);
      requireSuccess([final]);
      return ExitCode.Success;
    }),
  );
}
