import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { finished } from 'node:stream/promises';
import { makePrivateDir, withPrivateDir } from '../database/connection-url';
import {
  DatabaseBackupPlan,
  DatabaseConnection,
  DatabaseRestoreReport,
  DumpFile,
  ManifestItem,
  SnapshotFileOpener,
  SourceError,
  SourceManifest,
  ToolContext,
} from '../database/database-source';
import { runTool } from '../process/run-tool';
import { ToolFailedError, toolOutput } from '../process/tool-output';
import { explainConnectionError, postgresAccess, PostgresAccess, postgresUrl, psqlQuery, requireToolForServer, requireTools, serverVersion } from './postgres-tools';

/** What to dump from a PostgreSQL server. */
export interface PostgresBackupSpec {
  connection: DatabaseConnection;
  /** Databases to dump; "all" = every database that accepts connections (templates excepted); [] with globals = globals only. */
  databases: string[] | 'all';
  /** Only these schemas of each database (pg_dump -n); [] = all. */
  schemas: string[];
  /** Also roles and tablespaces (pg_dumpall --globals-only). */
  globals: boolean;
}

/** Where and how to restore a PostgreSQL snapshot. */
export interface PostgresRestoreOptions extends ToolContext {
  /** target.database: the database to restore into (created if missing). */
  target: DatabaseConnection;
  /** Restore over a target that exists and is not empty (pg_restore --clean --if-exists). */
  clean: boolean;
  /** Which database of the snapshot, when it holds several. */
  sourceDatabase?: string;
  /** Only these schemas (pg_restore -n). */
  schemas?: string[];
  /** pg_restore -j; 1 streams the dump straight from the repository without a staging file. */
  jobs?: number;
  /** Do not restore ownership (target server lacks the roles). */
  noOwner?: boolean;
  /** Also run the snapshot's globals (roles, tablespaces) against the target server. */
  globals?: boolean;
}

/** Name of the roles-and-tablespaces script in a PostgreSQL snapshot. */
export const GLOBALS_FILE = 'globals.sql';
/** The last line pg_dumpall writes: a globals script without it was cut short. */
const GLOBALS_TRAILER = 'PostgreSQL database cluster dump complete';

/**
 * Preflight, then the dumps to stream: `pg_dump -Fc -Z0` per database (custom format, so
 * pg_restore can restore in parallel and pick schemas; uncompressed, so unchanged rows give
 * unchanged bytes and daily dumps deduplicate — the repository compresses), and
 * `pg_dumpall --globals-only` when asked.
 */
export async function planPostgresBackup(spec: PostgresBackupSpec, context: ToolContext): Promise<DatabaseBackupPlan> {
  if (spec.databases !== 'all' && spec.databases.length === 0 && !spec.globals) throw new SourceError('nothing to back up: name a database, or ask for the globals');
  const privateDir = await makePrivateDir(context);
  try {
    const tools = await requireTools(['pg_dump', 'psql', ...(spec.globals ? ['pg_dumpall'] : [])], context);
    const access = await postgresAccess(spec.connection, context, privateDir);
    const maintenance = spec.connection.database ?? 'postgres';
    const server = await serverVersion(access, maintenance, context);
    requireToolForServer(tools.get('pg_dump')!, server);
    if (spec.globals) requireToolForServer(tools.get('pg_dumpall')!, server);
    const databases = await resolveDatabases(access, maintenance, spec.databases, context);
    if (spec.schemas.length > 0) for (const database of databases) await requireSchemas(access, database, spec.schemas, context);

    const items: ManifestItem[] = [];
    const files: DumpFile[] = [];
    if (spec.globals) {
      items.push({ file: GLOBALS_FILE, content: 'globals', format: 'sql' });
      files.push({ name: GLOBALS_FILE, open: () => dumpOutput('pg_dumpall', ['--globals-only', '-w', ...access.args, '-l', maintenance], 'pg_dumpall --globals-only', access, context) });
    }
    for (const database of databases) {
      const file = dumpFileName(database);
      const schemaArgs = spec.schemas.flatMap((schema) => ['-n', schema]);
      items.push({ file, content: 'database', database, format: 'pg-custom', ...(spec.schemas.length > 0 ? { schemas: spec.schemas } : {}) });
      files.push({ name: file, open: () => dumpOutput('pg_dump', ['-Fc', '-Z0', '-w', ...access.args, ...schemaArgs, '-d', database], `pg_dump of ${database}`, access, context) });
    }
    const pgDump = tools.get('pg_dump')!;
    const manifest: SourceManifest = {
      version: 1,
      kind: 'postgres',
      server: postgresUrl(access),
      serverVersion: server.version,
      tool: { name: 'pg_dump', version: pgDump.version },
      items,
    };
    const paths = databases.length > 0 ? databases.map((db) => postgresUrl(access, db)) : [postgresUrl(access)];
    return { kind: 'postgres', paths, manifest, files, dispose: () => rm(privateDir, { recursive: true, force: true }) };
  } catch (err) {
    await rm(privateDir, { recursive: true, force: true });
    throw err;
  }
}

/** The file a database's dump is stored as: its name made safe for a snapshot ("a/b" → "a%2Fb.pgdump"). */
function dumpFileName(database: string): string {
  return `${encodeURIComponent(database)}.pgdump`;
}

function dumpOutput(tool: string, args: string[], label: string, access: PostgresAccess, context: ToolContext): Readable {
  return toolOutput(tool, args, {
    env: access.env,
    label,
    signal: context.signal,
    onProcessGroup: context.onProcessGroup,
    onStderrLine: (line) => context.log?.(line),
  });
}

async function resolveDatabases(access: PostgresAccess, maintenance: string, wanted: string[] | 'all', context: ToolContext): Promise<string[]> {
  if (wanted === 'all') {
    return psqlQuery(access, maintenance, 'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY datname;', {}, context);
  }
  for (const database of wanted) {
    const [exists] = await psqlQuery(access, maintenance, "SELECT count(*) FROM pg_database WHERE datname = :'name';", { name: database }, context);
    if (exists !== '1') throw new SourceError(`database "${database}" does not exist on ${access.where}`);
  }
  return wanted;
}

async function requireSchemas(access: PostgresAccess, database: string, schemas: string[], context: ToolContext): Promise<void> {
  for (const schema of schemas) {
    const [exists] = await psqlQuery(access, database, "SELECT count(*) FROM pg_namespace WHERE nspname = :'name';", { name: schema }, context);
    if (exists !== '1') throw new SourceError(`schema "${schema}" does not exist in database "${database}" on ${access.where}`);
  }
}

/**
 * Restores one database of the snapshot into `target.database` with pg_restore: created if
 * missing; refused when it exists and holds anything, unless `clean`. The dump always streams
 * from the repository into pg_restore; with jobs > 1 (and no `clean`) the post-data section
 * then runs in parallel (see restoreSectionsInParallel). With `clean` everything runs in one
 * pg_restore: its drops must all come before its creates, or a foreign key of a table not yet
 * dropped stops the drop of the table it references.
 */
export async function restorePostgres(manifest: SourceManifest, open: SnapshotFileOpener, options: PostgresRestoreOptions): Promise<DatabaseRestoreReport> {
  const item = pickDatabase(manifest, options.sourceDatabase);
  const targetDatabase = options.target.database;
  if (!targetDatabase) throw new SourceError('give the target database in the URL: postgres://USER@HOST:PORT/TARGETDB');
  const jobs = Math.max(1, Math.floor(options.jobs ?? 1));
  return withPrivateDir(options, async (privateDir) => {
    await requireTools(['pg_restore', 'psql'], options);
    const access = await postgresAccess(options.target, options, privateDir);
    const maintenance = await maintenanceDatabase(access, options);
    const notes: string[] = [];
    const files: string[] = [];
    let bytes = 0;
    if (options.globals) {
      const globals = manifest.items.find((i) => i.content === 'globals');
      if (!globals) throw new SourceError('this snapshot holds no globals (roles, tablespaces): it was taken without them');
      bytes += await restoreGlobals(access, maintenance, open(globals.file), notes, options);
      files.push(globals.file);
    }
    const created = await prepareTarget(access, maintenance, targetDatabase, options);
    const args = ['-w', ...access.args, '-d', targetDatabase, ...(options.clean ? ['--clean', '--if-exists'] : []), ...(options.noOwner ? ['--no-owner', '--no-acl'] : [])];
    for (const schema of options.schemas ?? []) args.push('-n', schema);
    if (options.schemas?.length) await createSchemas(access, targetDatabase, options.schemas, options);
    const errors: string[] = [];
    const run = (input: NodeJS.ReadableStream | undefined, extra: string[]) =>
      runTool('pg_restore', [...args, ...extra], {
        env: access.env,
        input,
        label: `pg_restore into ${targetDatabase}`,
        signal: options.signal,
        onStderrLine: (line) => {
          if (/error:/.test(line)) errors.push(line.replace(/^pg_restore:\s*/, ''));
          options.log?.(line);
        },
      });
    const counted = countBytes(open(item.file), (n) => (bytes += n));
    try {
      if (jobs > 1 && !options.clean) await restoreSectionsInParallel(counted, join(privateDir, 'restore.pgdump'), jobs, run);
      else await run(counted, []);
    } catch (err) {
      if (err instanceof ToolFailedError && errors.length > 0) {
        throw new SourceError(`pg_restore into "${targetDatabase}" on ${access.where} reported ${errors.length} error(s); the first: ${errors[0]}`);
      }
      throw err instanceof ToolFailedError ? explainConnectionError(err, access, targetDatabase) : err;
    }
    files.push(item.file);
    return { target: postgresUrl(access, targetDatabase), files, bytes, created, notes };
  });
}

/**
 * A dump that was streamed out of pg_dump has no data offsets in its table of contents, and
 * a parallel pg_restore of such a file rescans it for every table (measured on a pgbench
 * scale-50 dump: 10.2 s against 4.4 s streamed). So the tables are created and loaded by
 * one pg_restore reading the stream (pre-data and data sections), while the same bytes are
 * staged to a private file; the post-data section — indexes, constraints, triggers, the
 * part that parallelises well and reads no table data — then runs with `jobs` workers from
 * that file.
 */
async function restoreSectionsInParallel(
  dump: Readable,
  stagingFile: string,
  jobs: number,
  run: (input: Readable | undefined, extra: string[]) => Promise<unknown>,
): Promise<void> {
  // Not pipeline(): a staging file that fails (disk full) must not stop the load.
  const file = createWriteStream(stagingFile, { mode: 0o600 });
  const staging = finished(file);
  dump.once('error', (err) => file.destroy(err));
  dump.pipe(file);
  const loading = run(dump, ['--section=pre-data', '--section=data']);
  // A pg_restore that failed stops reading: stop staging too (its error is the one to report).
  loading.catch(() => {
    dump.unpipe(file);
    file.destroy();
    dump.destroy();
  });
  const [loaded, staged] = await Promise.allSettled([loading, staging]);
  if (loaded.status === 'rejected') throw loaded.reason;
  if (staged.status === 'rejected') {
    throw new SourceError(`the tables are loaded, but staging the dump for the parallel index and constraint step failed (${(staged.reason as Error).message}): restore again with --jobs 1 --clean to stream without a staging file`);
  }
  await run(undefined, ['--section=post-data', '-j', String(jobs), stagingFile]);
}

/** The snapshot's database to restore: the one named, or the only one. */
function pickDatabase(manifest: SourceManifest, wanted: string | undefined): ManifestItem {
  const databases = manifest.items.filter((i) => i.content === 'database');
  if (wanted !== undefined) {
    const item = databases.find((i) => i.database === wanted);
    if (!item) throw new SourceError(`this snapshot holds no database "${wanted}"; it holds: ${databases.map((i) => i.database).join(', ') || 'only globals'}`);
    return item;
  }
  if (databases.length === 1) return databases[0];
  if (databases.length === 0) throw new SourceError('this snapshot holds no database, only globals (roles, tablespaces): restore them with --globals');
  throw new SourceError(`this snapshot holds ${databases.length} databases (${databases.map((i) => i.database).join(', ')}): say which with --database NAME`);
}

/** A database to run CREATE DATABASE from: "postgres", or "template1" on servers without it. */
async function maintenanceDatabase(access: PostgresAccess, context: ToolContext): Promise<string> {
  try {
    await psqlQuery(access, 'postgres', 'SELECT 1;', {}, context);
    return 'postgres';
  } catch (err) {
    if (err instanceof SourceError && err.message.startsWith('database "postgres" does not exist')) return 'template1';
    throw err;
  }
}

/** Creates the target when missing (true); refuses a non-empty one unless `clean`. */
async function prepareTarget(access: PostgresAccess, maintenance: string, database: string, options: PostgresRestoreOptions): Promise<boolean> {
  const [exists] = await psqlQuery(access, maintenance, "SELECT count(*) FROM pg_database WHERE datname = :'name';", { name: database }, options);
  if (exists === '0') {
    await psqlQuery(access, maintenance, 'CREATE DATABASE :"name";', { name: database }, options);
    options.log?.(`created database "${database}" on ${access.where}`);
    return true;
  }
  const [objects] = await psqlQuery(
    access,
    database,
    `SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE ${USER_SCHEMA})
          + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${USER_SCHEMA});`,
    {},
    options,
  );
  if (Number(objects) > 0 && !options.clean) {
    throw new SourceError(`target database "${database}" on ${access.where} is not empty (${objects} tables, indexes, sequences or functions): give --clean to restore over it, or pick a new name`);
  }
  return false;
}

const USER_SCHEMA = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp%'";

/** pg_restore -n restores what is IN a schema, not the schema itself. */
async function createSchemas(access: PostgresAccess, database: string, schemas: string[], context: ToolContext): Promise<void> {
  for (const schema of schemas) await psqlQuery(access, database, 'CREATE SCHEMA IF NOT EXISTS :"name";', { name: schema }, context);
}

/**
 * Runs the globals script on the target server. Roles that already exist are expected on a
 * server that is in use: those errors are notes, not failures.
 */
async function restoreGlobals(access: PostgresAccess, maintenance: string, script: Readable, notes: string[], context: ToolContext): Promise<number> {
  let bytes = 0;
  const failures: string[] = [];
  await runTool('psql', ['-X', '-q', '-w', ...access.args, '-d', maintenance], {
    env: access.env,
    input: countBytes(script, (n) => (bytes += n)),
    label: 'psql (globals)',
    signal: context.signal,
    onStderrLine: (line) => {
      context.log?.(line);
      if (/ERROR:/.test(line)) (/already exists/.test(line) ? notes : failures).push(line.replace(/^.*ERROR:\s*/, ''));
    },
  });
  if (failures.length > 0) throw new SourceError(`restoring roles and tablespaces failed: ${failures[0]}${failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''}`);
  return bytes;
}

/**
 * Streams each dump through `pg_restore --list` (its table of contents must read) and reads
 * every byte of it, which decrypts and authenticates every chunk. The globals script must end
 * with pg_dumpall's closing line.
 */
export async function verifyPostgresSnapshot(manifest: SourceManifest, open: SnapshotFileOpener, context: ToolContext): Promise<string[]> {
  await requireTools(['pg_restore'], context);
  const lines: string[] = [];
  for (const item of manifest.items) {
    if (item.content === 'globals') {
      let tail = '';
      const bytes = await readAll(open(item.file), (chunk) => (tail = (tail + chunk.toString('utf8')).slice(-200)));
      if (!tail.includes(GLOBALS_TRAILER)) throw new SourceError(`${item.file}: the roles-and-tablespaces script is cut short (no "${GLOBALS_TRAILER}" at its end)`);
      lines.push(`${item.file}: complete, ${bytes} bytes`);
      continue;
    }
    const toTool = new PassThrough();
    const listing = runTool('pg_restore', ['--list'], { input: toTool, label: `pg_restore --list of ${item.file}`, signal: context.signal });
    // pg_restore --list stops reading after the table of contents: the rest is still read, to check it.
    const listed = listing.then(
      () => undefined,
      () => undefined,
    );
    let toolDone = false;
    void listed.then(() => (toolDone = true));
    let bytes: number;
    try {
      bytes = await readAll(open(item.file), async (chunk) => {
        if (toolDone) return;
        if (!toTool.write(chunk)) await Promise.race([new Promise((resolve) => toTool.once('drain', resolve)), listed]);
      });
    } catch (err) {
      toTool.destroy(err as Error);
      throw err;
    }
    toTool.end();
    let toc: string;
    try {
      toc = (await listing).stdout;
    } catch (err) {
      throw new SourceError(`${item.file}: pg_restore cannot read it: ${(err as Error).message}`);
    }
    const entries = toc.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';'));
    const tableData = entries.filter((l) => / TABLE DATA /.test(l)).length;
    lines.push(`${item.file}: ${entries.length} entries (${tableData} with table data), ${bytes} bytes read and authenticated`);
  }
  return lines;
}

/** Reads a stream to its end, handing each chunk to `each`; returns the byte count. */
async function readAll(stream: Readable, each: (chunk: Buffer) => unknown): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    await each(chunk);
  }
  return bytes;
}

/** Passes a stream through, counting its bytes; fails when it fails. */
function countBytes(stream: Readable, add: (n: number) => void): Readable {
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      add(chunk.length);
      callback(null, chunk);
    },
  });
  stream.once('error', (err) => counter.destroy(err));
  return stream.pipe(counter);
}
