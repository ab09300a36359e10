import { lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { backupFiles, backupStream, BackupProgress, BackupResult, Repository } from '@coffer/repository';
import { assertStdinIsNotTerminal, DatabaseSource, parseDatabaseUrl, estimateWalk, walkFiles, WalkOptions, withHooks } from '@coffer/sources';
import { action } from '../shared/action';
import { CliError } from '../shared/cli-error';
import { ExitCode } from '../shared/exit-codes';
import { formatBytes, formatDuration, plural, shortId } from '../shared/format';
import { collect } from '../shared/option-parsers';
import { RepositoryOptions, withJsonOption, withRepository, withRepositoryOptions } from '../shared/repository-access';
import { Terminal } from '../shared/terminal';
import { snapshotJson } from '../shared/snapshot-json';
import { backupDatabase, DatabaseAccessOptions, hooksFrom, readDatabasePassword, toolContext, withDatabaseAccessOptions } from './database-options';

interface BackupCommandOptions extends RepositoryOptions, DatabaseAccessOptions {
  postgres?: string[];
  postgresGlobals?: string;
  schema?: string[];
  mysql?: string[];
  redis?: string;
  stdin?: boolean;
  stdinFilename: string;
  exclude?: string[];
  include?: string[];
  oneFileSystem?: boolean;
  tag?: string[];
  host?: string;
  parent?: string;
  force?: boolean;
  json?: boolean;
}

/** `coffer repo backup`: files and directories, or a stream from stdin, into a new snapshot. */
export function registerBackupCommand(repo: Command): void {
  const command = repo
    .command('backup')
    .description('back up files and directories, a database, or standard input, into a new snapshot')
    .argument('[path...]', 'files and directories to back up')
    .option('--postgres <url>', 'dump PostgreSQL databases: postgres://USER@HOST:PORT/DB (repeatable; no DB = every database of the server)', collect)
    .option('--schema <name>', 'with --postgres: only this schema of each database (repeatable)', collect)
    .option('--postgres-globals <url>', "PostgreSQL roles and tablespaces (pg_dumpall --globals-only): postgres://USER@HOST:PORT; alone or with --postgres on the same server")
    .option('--mysql <url>', 'dump MariaDB/MySQL databases: mysql://USER@HOST:PORT/DB (repeatable)', collect)
    .option('--redis <url>', 'take an RDB snapshot of a Redis server over replication: redis://HOST:PORT')
    .option('--stdin', 'back up what arrives on standard input, as one file (e.g. pg_dump … | coffer repo backup --stdin)')
    .option('--stdin-filename <name>', 'name of the file --stdin creates in the snapshot', 'stdin')
    .option('-e, --exclude <pattern>', 'skip entries matching this glob (repeatable; a pattern with "/" matches paths, else names)', collect)
    .option('-i, --include <pattern>', 'back up only files matching this glob (repeatable)', collect)
    .option('-x, --one-file-system', 'do not cross into other file systems')
    .option('--tag <tag>', 'tag the snapshot (repeatable)', collect)
    .option('--host <name>', 'host name to record (default: this host)')
    .option('--parent <snapshot>', 'snapshot to compare against for unchanged files (default: the latest of the same host and paths)')
    .option('--force', 'read every file again, comparing against no parent snapshot')
    .addHelpText(
      'after',
      '\nDatabase dumps are streamed into the repository uncompressed, so daily dumps deduplicate; the snapshot is written only if every dump tool exits 0.' +
        '\nExits with 3 when the snapshot was saved but some files could not be read (each one is named on stderr).',
    );
  withJsonOption(withRepositoryOptions(withDatabaseAccessOptions(command, 'backup'))).action(
    action(async (paths: string[], options: BackupCommandOptions) => {
      const out = new Terminal(!!options.json);
      const database = databaseSource(paths, options);
      const hooks = await hooksFrom(options);
      const result = await withHooks(hooks, 'backup', { log: (line) => out.log(line) }, () =>
        database ? backupDatabaseSource(database, options, out) : options.stdin ? backupStdin(paths, options, out) : backupPaths(paths, options, out),
      );
      out.clearProgress();
      printSummary(result, out);
      return result.snapshot.warnings.length > 0 ? ExitCode.Warnings : ExitCode.Success;
    }),
  );
}

/** The database source the options name, if any; one engine per snapshot, and not mixed with paths or --stdin. */
function databaseSource(paths: string[], options: BackupCommandOptions): DatabaseSource | undefined {
  const password = () => readDatabasePassword(options);
  const given = [options.postgres && '--postgres', options.postgresGlobals && '--postgres-globals', options.mysql && '--mysql', options.redis && '--redis'].filter(Boolean) as string[];
  if (given.length === 0) {
    if (options.schema) throw new CliError('--schema applies to --postgres');
    if (options.dbPasswordFile) throw new CliError('--db-password-file applies to --postgres, --postgres-globals, --mysql and --redis');
    return undefined;
  }
  if (paths.length > 0 || options.stdin) throw new CliError(`${given.join(', ')} make a snapshot of their own: back up paths or --stdin in another run`);
  const filesOnly = [options.include && '--include', options.exclude && '--exclude', options.oneFileSystem && '--one-file-system', options.parent !== undefined && '--parent'].filter(Boolean);
  if (filesOnly.length > 0) throw new CliError(`${filesOnly.join(', ')} apply to files and directories, not to database backups`);
  if (options.postgres || options.postgresGlobals) {
    if (options.mysql || options.redis) throw new CliError('one database engine per snapshot: back up PostgreSQL, MariaDB/MySQL and Redis in separate runs');
    const urls = options.postgres ?? [];
    const server = urls[0] ?? options.postgresGlobals!;
    // Every URL must be the same server: one snapshot is one server's dump.
    const base = (url: string) => url.replace(/^(postgres(?:ql)?:\/\/[^/]*).*$/, '$1');
    const other = [...urls, ...(options.postgresGlobals ? [options.postgresGlobals] : [])].find((url) => base(url) !== base(server));
    if (other) throw new CliError(`${other} is another server than ${server}: one snapshot holds one server's databases; back them up in separate runs`);
    const databases = urls.map((url) => parseDatabaseUrl('postgres', url).database).filter((db): db is string => db !== undefined);
    if (urls.length > 1 && databases.length < urls.length) throw new CliError('with several --postgres URLs each must name its database; give one URL without a database to back up them all');
    return {
      kind: 'postgres',
      url: server,
      password: password(),
      databases,
      schemas: options.schema ?? [],
      globals: !!options.postgresGlobals,
      globalsOnly: urls.length === 0,
    };
  }
  if (options.schema) throw new CliError('--schema applies to --postgres');
  if (options.mysql) {
    if (options.redis) throw new CliError('one database engine per snapshot: back up MariaDB/MySQL and Redis in separate runs');
    const databases = options.mysql.map((url) => parseDatabaseUrl('mysql', url).database).filter((db): db is string => db !== undefined);
    return { kind: 'mysql', url: options.mysql[0], password: password(), databases };
  }
  return { kind: 'redis', url: options.redis!, password: password() };
}

async function backupDatabaseSource(source: DatabaseSource, options: BackupCommandOptions, out: Terminal): Promise<BackupResult> {
  return withRepository(options, (repo: Repository) =>
    backupDatabase(repo, source, toolContext(out), {
      host: options.host,
      tags: options.tag,
      onProgress: (p: BackupProgress) => out.progress({ activity: `dumping ${source.kind}:`, bytesDone: p.bytesDone }),
    }),
  );
}

async function backupPaths(given: string[], options: BackupCommandOptions, out: Terminal): Promise<BackupResult> {
  if (given.length === 0) throw new CliError('nothing to back up: give one or more paths, --stdin, or a database (--postgres, --mysql, --redis)');
  if (options.parent !== undefined && options.force) throw new CliError('--parent and --force contradict each other: give one of them');
  for (const p of given) assertExists(resolve(p), p);
  const paths = [...new Set(given.map((p) => resolve(p)))];
  const filters: WalkOptions = { include: options.include ?? [], exclude: options.exclude ?? [], oneFileSystem: !!options.oneFileSystem };
  // walkFiles validates patterns and roots before yielding anything; its messages name the problem.
  const walk = fromSource(() => walkFiles(paths, filters));
  const estimate = out.showsProgress ? estimateWalk(paths, filters) : undefined;

  return withRepository(options, (repo: Repository) =>
    backupFiles(repo, walk, {
      paths,
      host: options.host,
      tags: options.tag,
      parent: options.force ? false : options.parent,
      onProgress: (p: BackupProgress) =>
        out.progress({
          count: { done: p.files, total: estimate?.done ? estimate.files : undefined, noun: 'files' },
          bytesDone: p.bytesDone,
          totalBytes: estimate?.done ? estimate.bytes : undefined,
        }),
      onWarning: (message: string) => out.warn(message),
      onNote: (message: string) => out.note(message),
    }),
  );
}

async function backupStdin(paths: string[], options: BackupCommandOptions, out: Terminal): Promise<BackupResult> {
  if (paths.length > 0) throw new CliError('give either paths or --stdin, not both');
  const filesOnly = [options.include && '--include', options.exclude && '--exclude', options.oneFileSystem && '--one-file-system', options.parent !== undefined && '--parent'].filter(Boolean);
  if (filesOnly.length > 0) throw new CliError(`${filesOnly.join(', ')} apply to files and directories, not to --stdin`);
  fromSource(() => assertStdinIsNotTerminal());
  return withRepository(options, (repo: Repository) =>
    backupStream(repo, process.stdin, options.stdinFilename, {
      host: options.host,
      tags: options.tag,
      onProgress: (p: BackupProgress) => out.progress({ activity: 'reading stdin:', bytesDone: p.bytesDone }),
    }),
  );
}

function assertExists(abs: string, given: string): void {
  let exists: boolean;
  try {
    exists = lstatSync(abs, { throwIfNoEntry: false }) !== undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOTDIR') throw new CliError(`cannot back up ${given}: ${(err as Error).message}`);
    exists = false;
  }
  if (!exists) throw new CliError(`cannot back up ${given}: no such file or directory`);
}

/** The sources throw plain Errors for what the user gave (bad pattern, stdin is a terminal): those are usage errors. */
function fromSource<T>(call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

function printSummary({ snapshotId, snapshot }: BackupResult, out: Terminal): void {
  const s = snapshot.stats;
  if (out.json) {
    out.printJson(snapshotJson({ id: snapshotId, snapshot }));
    return;
  }
  const unchanged = s.totalBytes - s.bytesRead;
  out.print(
    [
      `Files:      ${plural(s.files, 'file')}, ${plural(s.dirs, 'directory', 'directories')}`,
      `Processed:  ${formatBytes(s.totalBytes)}${unchanged > 0 ? ` (${formatBytes(s.bytesRead)} read, ${formatBytes(unchanged)} unchanged since the parent snapshot)` : ''}`,
      `New data:   ${formatBytes(s.bytesNew)}, stored as ${formatBytes(s.bytesStored)}`,
      `Duration:   ${formatDuration(s.durationMs)}`,
    ].join('\n'),
  );
  if (snapshot.warnings.length > 0) out.print(`Warnings:   ${plural(snapshot.warnings.length, 'warning')}: what could not be read is not in the snapshot (named above)`);
  out.print(`snapshot ${shortId(snapshotId)} saved`);
}
