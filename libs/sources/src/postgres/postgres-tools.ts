import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeConnection } from '../database/connection-url';
import { DatabaseConnection, SourceError, ToolContext } from '../database/database-source';
import { runTool } from '../process/run-tool';
import { ToolFailedError } from '../process/tool-output';
import { detectTools } from '../process/tool-detector';

/*
 * How Coffer talks to PostgreSQL: only through its own client tools (psql, pg_dump,
 * pg_restore, pg_dumpall), found on the context's PATH, with the password in a private
 * PGPASSFILE and never on a command line.
 */

/** A tool found on PATH, with its major version. */
export interface FoundTool {
  name: string;
  path: string;
  version: string;
  major: number;
}

/** Finds the tools, failing with one message that names every missing one. */
export async function requireTools(names: string[], context: ToolContext): Promise<Map<string, FoundTool>> {
  const found = await detectTools(names, context.path ?? process.env.PATH ?? '');
  const missing = found.filter((t) => !t.path).map((t) => t.name);
  if (missing.length > 0) {
    throw new SourceError(`${missing.join(', ')} ${missing.length === 1 ? 'was' : 'were'} not found on PATH: install the PostgreSQL client tools (Debian: postgresql-client) of the server's version or newer`);
  }
  return new Map(found.map((t) => [t.name, { ...t, major: Number.parseInt(t.version, 10) || 0 }]));
}

/** What the tools need to reach one server: arguments for the host, port and user, and the environment. */
export interface PostgresAccess {
  connection: DatabaseConnection;
  /** -h HOST -p PORT [-U USER] */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** "127.0.0.1:5432", for messages. */
  where: string;
}

/**
 * The arguments and environment for `connection`. A password is written to `privateDir`/pgpass
 * (mode 600) and handed over as PGPASSFILE; without one the user's own ~/.pgpass or
 * PGPASSFILE apply, as with any PostgreSQL client.
 */
export async function postgresAccess(connection: DatabaseConnection, context: ToolContext, privateDir: string): Promise<PostgresAccess> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGCONNECT_TIMEOUT: process.env.PGCONNECT_TIMEOUT ?? '15', LC_MESSAGES: 'C' };
  if (context.path !== undefined) env.PATH = context.path;
  if (connection.password !== undefined) {
    const file = join(privateDir, 'pgpass');
    await writeFile(file, `*:*:*:*:${connection.password.replace(/\\/g, '\\\\').replace(/:/g, '\\:')}\n`, { mode: 0o600 });
    env.PGPASSFILE = file;
    delete env.PGPASSWORD;
  }
  const args = ['-h', connection.host, '-p', String(connection.port ?? 5432), ...(connection.user ? ['-U', connection.user] : [])];
  return { connection, args, env, where: `${connection.host}:${connection.port ?? 5432}` };
}

/**
 * Runs SQL with psql on `database` and returns the rows (unaligned, tuples only, one per
 * line). Values are passed as psql variables (`:'name'` for literals, `:"name"` for
 * identifiers), never spliced into the SQL. Connection failures become SourceErrors that say
 * what was wrong: the server, the user, the database.
 */
export async function psqlQuery(access: PostgresAccess, database: string, sql: string, variables: Record<string, string> = {}, context: ToolContext = {}): Promise<string[]> {
  const args = ['-X', '-q', '-A', '-t', '-w', '-v', 'ON_ERROR_STOP=1', ...access.args, '-d', database];
  for (const [name, value] of Object.entries(variables)) args.push('-v', `${name}=${value}`);
  try {
    const { stdout } = await runTool('psql', args, { env: access.env, input: sql, label: 'psql', signal: context.signal, timeoutMs: 120_000 });
    return stdout.split('\n').filter((line) => line !== '');
  } catch (err) {
    throw explainConnectionError(err, access, database);
  }
}

/**
 * Turns what libpq says into a SourceError naming the server: wrong role or password,
 * missing database, server unreachable. Other failures pass through.
 */
export function explainConnectionError(err: unknown, access: PostgresAccess, database: string): Error {
  if (!(err instanceof ToolFailedError)) return err as Error;
  const reason = libpqReason(err.stderr);
  if (/database ".*" does not exist/.test(reason)) return new SourceError(`database "${database}" does not exist on ${access.where}`);
  if (/connection to server|could not connect|could not translate host name|timeout expired|password authentication failed|role ".*" does not exist|no password supplied|pg_hba\.conf/.test(err.stderr)) {
    const who = access.connection.user ? ` as ${access.connection.user}` : '';
    return new SourceError(`cannot connect to PostgreSQL at ${access.where}${who}: ${reason}`);
  }
  return new SourceError(err.message);
}

/** The meaningful part of a libpq error: "FATAL:  role "x" does not exist" → 'role "x" does not exist'. */
function libpqReason(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  const fatal = lines.find((l) => /FATAL:|ERROR:/.test(l));
  const line = fatal ?? lines.find((l) => /error:/.test(l)) ?? lines[0] ?? 'unknown error';
  return line.replace(/^.*?(FATAL|ERROR):\s*/, '').replace(/^.*?error:\s*(connection to server .*? failed:\s*)?/, '').trim();
}

/** The server's version: "15.20" and its major number. */
export async function serverVersion(access: PostgresAccess, database: string, context: ToolContext): Promise<{ version: string; major: number }> {
  const [num, text] = await psqlQuery(access, database, 'SHOW server_version_num;\nSHOW server_version;\n', {}, context);
  return { version: (text ?? '').split(' ')[0], major: Math.floor(Number(num) / 10000) };
}

/** Refuses a dump tool older than the server: pg_dump cannot dump a newer server. */
export function requireToolForServer(tool: FoundTool, server: { version: string; major: number }): void {
  if (tool.major < server.major) {
    throw new SourceError(
      `${tool.name} ${tool.version} is older than the server (PostgreSQL ${server.version}) and cannot dump it: install the PostgreSQL ${server.major} client tools or newer`,
    );
  }
}

/** The URL of a database on this server (of the server when none is given), for snapshot paths and reports. */
export function postgresUrl(access: PostgresAccess, database?: string): string {
  return describeConnection('postgres', { ...access.connection, database });
}
