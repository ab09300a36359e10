import { resolve } from 'node:path';
import { Command } from 'commander';
import { availableParallelism } from 'node:os';
import { restoreSnapshot, Repository, snapshotFileOpener, SnapshotRef } from '@coffer/repository';
import { DatabaseRestoreReport, DatabaseTarget, restoreDatabase, startRedisServer, withHooks } from '@coffer/sources';
import { action } from '../shared/action';
import { CliError } from '../shared/cli-error';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, formatDuration, plural, shortId } from '../shared/format';
import { collect, wholeNumber } from '../shared/option-parsers';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';
import { DatabaseAccessOptions, hooksFrom, readDatabasePassword, toolContext, withDatabaseAccessOptions } from './database-options';

interface RestoreCommandOptions extends RepositoryOptions, DatabaseAccessOptions {
  postgres?: string;
  mysql?: string;
  redisDir?: string;
  redisPort?: number;
  clean?: boolean;
  schema?: string[];
  database?: string;
  jobs?: number;
  owner: boolean;
  globals?: boolean;
  target?: string;
  include?: string[];
  overwrite?: boolean;
  json?: boolean;
}

/** `coffer repo restore`: a snapshot back onto disk, under a target directory. */
export function registerRestoreCommand(repo: Command): void {
  const command = repo
    .command('restore')
    .description('restore a snapshot into a directory: contents, modes, mtimes (and owners when run as root)')
    .argument('<snapshot>', 'snapshot id (at least 4 hex digits) or "latest"')
    .option('-t, --target <dir>', 'directory to restore into (created if missing; must be empty unless --overwrite)')
    .option('-i, --include <pattern>', 'restore only paths matching this glob (repeatable; a pattern with "/" matches snapshot paths, else names)', collect)
    .option('--overwrite', 'restore into a non-empty directory, replacing what is in the way')
    .option('--postgres <url>', 'restore a PostgreSQL snapshot into this database: postgres://USER@HOST:PORT/TARGETDB (created if missing)')
    .option('--mysql <url>', 'restore a MariaDB/MySQL snapshot into this database: mysql://USER@HOST:PORT/TARGETDB (created if missing)')
    .option('--redis-dir <dir>', "write a Redis snapshot's dump.rdb into this directory (of a stopped server, or a new one)")
    .option('--redis-port <port>', 'with --redis-dir: then start redis-server on it at this port (persistence off), and leave it running', wholeNumber)
    .option('--clean', 'restore over a database that exists and is not empty (or replace an existing dump.rdb)')
    .option('--database <name>', 'which database of the snapshot to restore, when it holds several')
    .option('--schema <name>', 'with --postgres: only this schema (repeatable)', collect)
    .option('-j, --jobs <n>', 'with --postgres: parallel pg_restore jobs (1 streams without a staging file)', wholeNumber)
    .option('--no-owner', 'with --postgres: do not restore ownership and privileges (the target server lacks the roles)')
    .option('--globals', "with --postgres: also restore the snapshot's roles and tablespaces");
  withJsonOption(withRepositoryOptions(withDatabaseAccessOptions(command, 'restore'))).action(
    action(async (snapshotRef: string, options: RestoreCommandOptions) => {
      const database = databaseTarget(options);
      if (database) return restoreDatabaseSnapshot(snapshotRef, database, options);
      if (!options.target) throw new CliError('no target given: use --target DIR (an empty or new directory), or --postgres, --mysql or --redis-dir for a database snapshot');
      const target = resolve(options.target);
      const out = new Terminal(!!options.json);
      const started = Date.now();
      const restoreFiles = () => withRepository(options, async (repository) => {
        const ref = await repository.findSnapshot(snapshotRef);
        // Without --include the snapshot says how much there is to write, which gives an ETA.
        const whole = options.include === undefined;
        const totalBytes = whole ? ref.snapshot.stats.totalBytes : undefined;
        const totalFiles = whole ? ref.snapshot.stats.files : undefined;
        const result = await restoreSnapshot(repository, ref.snapshot, {
          target,
          include: options.include,
          overwrite: !!options.overwrite,
          onProgress: (p) => out.progress({ count: { done: p.files, total: totalFiles, noun: 'files' }, bytesDone: p.bytes, totalBytes }),
        });
        return { ref, result };
      });
      const { ref, result } = await withHooks(await hooksFrom(options), 'restore', { log: (line) => out.log(line) }, restoreFiles);
      out.clearProgress();
      for (const error of result.errors) out.problem(error);
      if (out.json) {
        out.printJson({ snapshotId: ref.id, target, files: result.files, dirs: result.dirs, symlinks: result.symlinks, bytes: result.bytes, errors: result.errors });
      } else {
        out.print(
          `restored ${plural(result.files, 'file')}, ${plural(result.dirs, 'directory', 'directories')}, ${plural(result.symlinks, 'symlink')} ` +
            `(${formatBytes(result.bytes)}) from snapshot ${shortId(ref.id)} to ${target} in ${formatDuration(Date.now() - started)}`,
        );
      }
      if (result.errors.length > 0) throw new CliError(`${plural(result.errors.length, 'path')} could not be restored (named above); the others were restored`);
      return ExitCode.Success;
    }),
  );
}

/** The database target the options name, if any; refuses options that do not fit it. */
function databaseTarget(options: RestoreCommandOptions): DatabaseTarget | undefined {
  const given = [options.postgres && '--postgres', options.mysql && '--mysql', options.redisDir && '--redis-dir'].filter(Boolean) as string[];
  const postgresOnly = [options.schema && '--schema', options.jobs !== undefined && '--jobs', !options.owner && '--no-owner', options.globals && '--globals'].filter(Boolean) as string[];
  if (given.length === 0) {
    const databaseOnly = [...postgresOnly, options.clean && '--clean', options.database && '--database', options.redisPort !== undefined && '--redis-port', options.dbPasswordFile && '--db-password-file'].filter(Boolean);
    if (databaseOnly.length > 0) throw new CliError(`${databaseOnly.join(', ')} apply to database restores (--postgres, --mysql, --redis-dir)`);
    return undefined;
  }
  if (given.length > 1) throw new CliError(`${given.join(' and ')}: give one restore target`);
  if (options.target || options.include || options.overwrite) throw new CliError(`${given[0]} restores a database: --target, --include and --overwrite apply to files`);
  if (!options.postgres && postgresOnly.length > 0) throw new CliError(`${postgresOnly.join(', ')} apply to --postgres`);
  if (!options.redisDir && options.redisPort !== undefined) throw new CliError('--redis-port applies to --redis-dir');
  const clean = !!options.clean;
  if (options.postgres) {
    return {
      kind: 'postgres',
      url: options.postgres,
      password: readDatabasePassword(options),
      clean,
      sourceDatabase: options.database,
      schemas: options.schema,
      jobs: options.jobs ?? Math.min(4, availableParallelism()),
      noOwner: !options.owner,
      globals: !!options.globals,
    };
  }
  if (options.mysql) return { kind: 'mysql', url: options.mysql, password: readDatabasePassword(options), clean, sourceDatabase: options.database };
  if (options.database) throw new CliError('--database applies to --postgres and --mysql');
  return { kind: 'redis', dir: resolve(options.redisDir!), clean };
}

async function restoreDatabaseSnapshot(snapshotRef: string, target: DatabaseTarget, options: RestoreCommandOptions): Promise<ExitCode> {
  const out = new Terminal(!!options.json);
  const started = Date.now();
  const { ref, report } = await withHooks(await hooksFrom(options), 'restore', { log: (line) => out.log(line) }, () =>
    withRepository(options, async (repo: Repository): Promise<{ ref: SnapshotRef; report: DatabaseRestoreReport }> => {
      const ref = await repo.findSnapshot(snapshotRef);
      const report = await restoreDatabase(snapshotFileOpener(repo, ref.snapshot), target, toolContext(out));
      return { ref, report };
    }),
  );
  let server: { pid: number; port: number } | undefined;
  if (target.kind === 'redis' && options.redisPort !== undefined) {
    server = await startRedisServer({ dir: target.dir, port: options.redisPort, detach: true });
  }
  if (out.json) {
    out.printJson({ snapshotId: ref.id, ...report, ...(server ? { redisServer: { pid: server.pid, port: server.port } } : {}) });
  } else {
    out.print(
      `restored ${report.files.join(', ')} (${formatBytes(report.bytes)}) from snapshot ${shortId(ref.id)} into ${report.target}` +
        `${report.created ? ' (created)' : ''} in ${formatDuration(Date.now() - started)}`,
    );
    for (const note of report.notes) out.note(note);
    if (server) out.print(`redis-server started on port ${server.port} (pid ${server.pid}); stop it with: kill ${server.pid}`);
  }
  return ExitCode.Success;
}
