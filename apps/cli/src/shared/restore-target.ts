import { Command, InvalidArgumentError } from 'commander';
import { CliError } from './cli-error';
import { collect } from './option-parsers';

/*
 * Where a restore goes, for both `coffer repo restore` (here, from a repository) and
 * `coffer restore` (on an agent, through the controller): a directory or one database, and
 * the options that only make sense for some of them.
 */

/** The flag that names where a restore goes. */
export type RestoreTargetFlag = '--target' | '--postgres' | '--mysql' | '--redis-dir';

/** The database restore options both commands take (commander's names). */
export interface DatabaseRestoreOptions {
  postgres?: string;
  mysql?: string;
  redisDir?: string;
  clean?: boolean;
  database?: string;
  schema?: string[];
  jobs?: number;
  /** false with --no-owner. */
  owner?: boolean;
  globals?: boolean;
}

/** `--jobs N`: parallel pg_restore jobs, 1 to 64. */
function restoreJobs(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 64) throw new InvalidArgumentError('give a whole number from 1 to 64.');
  return n;
}

/** Declares --postgres, --mysql, --redis-dir and the options that go with them. */
export function withDatabaseRestoreOptions(command: Command): Command {
  return command
    .option('--postgres <url>', 'restore a PostgreSQL snapshot into this database: postgres://USER@HOST:PORT/TARGETDB (created if missing)')
    .option('--mysql <url>', 'restore a MariaDB/MySQL snapshot into this database: mysql://USER@HOST:PORT/TARGETDB (created if missing)')
    .option('--redis-dir <dir>', "write a Redis snapshot's dump.rdb into this directory (of a stopped server, or a new one)")
    .option('--clean', 'restore over a database that exists and is not empty (or replace an existing dump.rdb); without it such a target is refused')
    .option('--database <name>', 'which database of the snapshot to restore, when it holds several')
    .option('--schema <name>', 'PostgreSQL: restore only this schema (repeatable)', collect)
    .option('-j, --jobs <n>', 'PostgreSQL: parallel pg_restore jobs for indexes and constraints (1: no staging file)', restoreJobs)
    .option('--no-owner', 'PostgreSQL: do not restore ownership and privileges (the target server lacks the roles)')
    .option('--globals', "PostgreSQL: also restore the snapshot's roles and tablespaces");
}

/** An option a command adds, with the targets it applies to. */
export type TargetOnlyOption = [flag: string, value: unknown, targets: RestoreTargetFlag[]];

/**
 * The target the options choose, or undefined when they name none. Refuses two targets, and
 * any option given for a target it does not apply to (`extra`: the command's own such options).
 */
export function chooseRestoreTarget(options: DatabaseRestoreOptions & { target?: string }, extra: TargetOnlyOption[] = []): RestoreTargetFlag | undefined {
  const chosen = (
    [
      ['--target', options.target],
      ['--postgres', options.postgres],
      ['--mysql', options.mysql],
      ['--redis-dir', options.redisDir],
    ] as const
  )
    .filter(([, value]) => value !== undefined)
    .map(([flag]) => flag);
  if (chosen.length === 0) return undefined;
  if (chosen.length > 1) throw new CliError(`give only one of ${chosen.join(', ')}: a restore goes to one place`);
  const checks: TargetOnlyOption[] = [
    ['--clean', options.clean, ['--postgres', '--mysql', '--redis-dir']],
    ['--database', options.database, ['--postgres', '--mysql']],
    ['--schema', options.schema, ['--postgres']],
    ['--jobs', options.jobs, ['--postgres']],
    ['--no-owner', options.owner === false || undefined, ['--postgres']],
    ['--globals', options.globals, ['--postgres']],
    ...extra,
  ];
  for (const [flag, value, targets] of checks) {
    if (value !== undefined && value !== false && !targets.includes(chosen[0])) throw new CliError(`${flag} applies to ${targets.join(' / ')} restores only`);
  }
  return chosen[0];
}
