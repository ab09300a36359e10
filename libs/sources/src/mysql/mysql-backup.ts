import { describeConnection } from '../database/connection-url';
import { DatabaseBackupPlan, DatabaseConnection, DumpFile, SourceError, ToolContext } from '../database/database-source';
import type { ToolVersion } from '../process/tool-detector';
import { toolOutput } from '../process/tool-output';
import { MysqlSession, quoteString } from './mysql-session';
import { checkDumpToolVersion, findMysqlDumpTool } from './mysql-tools';

/** What to dump from a MariaDB/MySQL server: one database or several. */
export interface MysqlBackupSpec {
  connection: DatabaseConnection;
  /** At least one. */
  databases: string[];
}

/**
 * A consistent InnoDB snapshot with everything a database holds besides its rows (routines,
 * triggers, events), binary columns as hex so no client character set can mangle them, and
 * no --databases: without CREATE DATABASE / USE the dump restores into any database name.
 */
export const MYSQL_DUMP_OPTIONS = [
  '--single-transaction',
  '--routines',
  '--triggers',
  '--events',
  '--hex-blob',
  '--add-drop-trigger',
  '--default-character-set=utf8mb4',
] as const;

/** The snapshot file of a database's dump. */
export function mysqlDumpFileName(database: string): string {
  return `${database}.sql`;
}

/**
 * Preflight — dump tool found and not older than the server, login works, every database
 * exists — then the plan: one `<db>.sql` per database, each dumped when its stream is opened.
 */
export async function planMysqlBackup(spec: MysqlBackupSpec, context: ToolContext): Promise<DatabaseBackupPlan> {
  if (spec.databases.length === 0) throw new SourceError('no MariaDB/MySQL database to back up: name at least one');
  if (spec.databases.includes('')) throw new SourceError('an empty database name cannot be backed up');
  const unfit = spec.databases.find((database) => /[/\\\0]/.test(database));
  if (unfit !== undefined) throw new SourceError(`database "${unfit}" cannot be backed up: its name holds "/" or "\\", which cannot be part of a snapshot file name`);
  const dumpTool = await findMysqlDumpTool(context);
  const session = await MysqlSession.open(spec.connection, context);
  try {
    checkDumpToolVersion(dumpTool, session.serverVersion);
    await requireDatabases(session, spec.databases);
  } catch (err) {
    await session.dispose();
    throw err;
  }
  const server = { ...spec.connection, database: undefined };
  return {
    kind: 'mysql',
    paths: spec.databases.map((database) => describeConnection('mysql', spec.connection, database)),
    manifest: {
      version: 1,
      kind: 'mysql',
      server: describeConnection('mysql', server),
      serverVersion: session.serverVersion,
      tool: { name: dumpTool.name, version: dumpTool.version },
      items: spec.databases.map((database) => ({ file: mysqlDumpFileName(database), content: 'database', database, format: 'sql' })),
    },
    files: spec.databases.map((database) => dumpFile(dumpTool, session, database, context)),
    dispose: () => session.dispose(),
  };
}

function dumpFile(tool: ToolVersion, session: MysqlSession, database: string, context: ToolContext): DumpFile {
  return {
    name: mysqlDumpFileName(database),
    open: () =>
      toolOutput(tool.path, [...session.login.args, ...MYSQL_DUMP_OPTIONS, '--', database], {
        signal: context.signal,
        onStderrLine: (line) => context.log?.(`${tool.name}: ${line}`),
        onProcessGroup: context.onProcessGroup,
        label: `${tool.name} of ${database}`,
      }),
  };
}

async function requireDatabases(session: MysqlSession, databases: string[]): Promise<void> {
  const rows = await session.query(`SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (${databases.map(quoteString).join(', ')})`);
  const present = new Set(rows.map((row) => row[0]));
  const missing = databases.find((database) => !present.has(database));
  if (missing !== undefined) throw new SourceError(`database "${missing}" does not exist on ${session.hostPort}`);
}
