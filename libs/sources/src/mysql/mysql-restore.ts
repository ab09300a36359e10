import { pipeline, Readable, Transform } from 'node:stream';
import { describeConnection } from '../database/connection-url';
import { DatabaseConnection, DatabaseRestoreReport, ManifestItem, SnapshotFileOpener, SourceError, SourceManifest, ToolContext } from '../database/database-source';
import { runTool } from '../process/run-tool';
import { MysqlSession, quoteIdentifier, quoteString } from './mysql-session';

/** Where and how to restore a MariaDB/MySQL snapshot. */
export interface MysqlRestoreOptions extends ToolContext {
  /** target.database is required: the database to restore into. */
  target: DatabaseConnection;
  /** Restore over a target that exists and is not empty. */
  clean: boolean;
  /** Which database of the snapshot, when it holds several. */
  sourceDatabase?: string;
}

/**
 * Restores one database dump of the snapshot into `options.target.database`: creates it when
 * missing, refuses it when it holds anything (unless `clean`: then drops and re-creates it,
 * keeping its character set), and feeds the dump to the client. A snapshot stream that fails
 * fails the restore. A database this restore created is dropped again when the restore fails,
 * so a half restore never looks like a copy.
 */
export async function restoreMysql(manifest: SourceManifest, open: SnapshotFileOpener, options: MysqlRestoreOptions): Promise<DatabaseRestoreReport> {
  const item = pickMysqlItem(manifest, options.sourceDatabase);
  const database = options.target.database;
  if (!database) throw new SourceError('no target database given: name the database to restore into');
  const session = await MysqlSession.open(options.target, options);
  try {
    const created = await prepareTarget(session, database, options.clean);
    let bytes = 0;
    try {
      await runTool(session.client, [...session.login.args, '--default-character-set=utf8mb4', `--database=${database}`], {
        input: countBytes(open(item.file), (count) => (bytes += count)),
        signal: options.signal,
        onStderrLine: (line) => options.log?.(`${clientName(session)}: ${line}`),
        label: `${clientName(session)} restoring ${item.file} into "${database}"`,
      });
    } catch (err) {
      if (created) await session.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(database)}`).catch(() => undefined);
      throw err;
    }
    return { target: describeConnection('mysql', options.target, database), files: [item.file], bytes, created, notes: [] };
  } finally {
    await session.dispose();
  }
}

/** The dump to restore: the one named by `sourceDatabase`, or the only one there is. */
export function pickMysqlItem(manifest: SourceManifest, sourceDatabase: string | undefined): ManifestItem {
  const dumps = manifest.items.filter((item) => item.content === 'database');
  const names = dumps.map((item) => `"${item.database}"`).join(', ');
  if (sourceDatabase !== undefined) {
    const named = dumps.find((item) => item.database === sourceDatabase);
    if (!named) throw new SourceError(`this snapshot holds no database "${sourceDatabase}"; it holds ${names || 'none'}`);
    return named;
  }
  if (dumps.length === 1) return dumps[0];
  if (dumps.length === 0) throw new SourceError('this snapshot holds no MariaDB/MySQL database dump');
  throw new SourceError(`this snapshot holds several databases (${names}): name the one to restore (--database NAME)`);
}

/** Makes `database` an empty database to restore into; true when it did not exist and was created. */
async function prepareTarget(session: MysqlSession, database: string, clean: boolean): Promise<boolean> {
  const state = await readTargetState(session, database);
  const name = quoteIdentifier(database);
  if (!state) {
    await session.query(`CREATE DATABASE ${name}`);
    return true;
  }
  if (state.contents.length === 0) return false;
  if (!clean) {
    throw new SourceError(`target database "${database}" on ${session.hostPort} is not empty (${state.contents.join(', ')}): give --clean to replace it, or pick a new name`);
  }
  await session.query(`DROP DATABASE ${name}; CREATE DATABASE ${name}${state.charsetClause}`);
  return false;
}

interface TargetState {
  /** What the database holds: ["12 tables", "1 view"]; empty when nothing. */
  contents: string[];
  /** " CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci", to re-create it alike. */
  charsetClause: string;
}

/** What the target database holds, or undefined when it does not exist. */
async function readTargetState(session: MysqlSession, database: string): Promise<TargetState | undefined> {
  const name = quoteString(database);
  const rows = await session.query(
    `SELECT s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME,
       (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${name} AND TABLE_TYPE <> 'VIEW'),
       (SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ${name}),
       (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${name}),
       (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ${name}),
       (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ${name})
     FROM information_schema.SCHEMATA s WHERE s.SCHEMA_NAME = ${name}`,
  );
  if (rows.length === 0) return undefined;
  const [charset, collation, ...counts] = rows[0];
  const kinds = ['table', 'view', 'routine', 'trigger', 'event'];
  const contents = counts.map(Number).flatMap((count, i) => (count > 0 ? [`${count} ${kinds[i]}${count === 1 ? '' : 's'}`] : []));
  const plainName = /^\w+$/;
  const charsetClause = plainName.test(charset) && plainName.test(collation) ? ` CHARACTER SET ${charset} COLLATE ${collation}` : '';
  return { contents, charsetClause };
}

/** `source` passed through, telling `onBytes` each chunk's size; a failure of `source` fails the returned stream. */
function countBytes(source: Readable, onBytes: (count: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      onBytes(chunk.length);
      done(null, chunk);
    },
  });
  // pipeline, unlike pipe, destroys the counter with the source's error, so runTool sees it.
  return pipeline(source, counter, () => undefined);
}

function clientName(session: MysqlSession): string {
  return session.client.split('/').pop() ?? 'mariadb';
}
