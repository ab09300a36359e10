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
import { chooseRestoreTarget, DatabaseRestoreOptions, withDatabaseRestoreOptions } from '../shared/restore-target';
import { Terminal } from '../shared/terminal';
import { DatabaseAccessOptions, hooksFrom, readDatabasePassword, toolContext, withDatabaseAccessOptions } from './database-options';

interface RestoreCommandOptions extends RepositoryOptions, DatabaseAccessOptions, DatabaseRestoreOptions {
  redisPort?: number;
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
    .option('--redis-port <port>', 'with --redis-dir: then start redis-server on it at this port (persistence off), and leave it running', wholeNumber);
  withJsonOption(withRepositoryOptions(withDatabaseAccessOptions(withDatabaseRestoreOptions(command), 'restore'))).action(
    action(async (snapshotRef: string, options: RestoreCommandOptions) => {
      const chosen = chooseRestoreTarget(options, [
        ['--include', options.include, ['--target']],
        ['--overwrite', options.overwrite, ['--target']],
        ['--redis-port', options.redisPort, ['--redis-dir']],
        ['--db-password-file', options.dbPasswordFile, ['--postgres', '--mysql']],
      ]);
      if (chosen && chosen !== '--target') return restoreDatabaseSnapshot(snapshotRef, databaseTarget(options), options);
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

/** The database target of options that chose --postgres, --mysql or --redis-dir (checked by chooseRestoreTarget). */
function databaseTarget(options: RestoreCommandOptions): DatabaseTarget {
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
      noOwner: options.owner === false,
      globals: !!options.globals,
    };
  }
  if (options.mysql) return { kind: 'mysql', url: options.mysql, password: readDatabasePassword(options), clean, sourceDatabase: options.database };
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
