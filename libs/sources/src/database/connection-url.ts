import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseConnection, DatabaseKind, SourceError, ToolContext } from './database-source';

const SCHEMES: Record<DatabaseKind, string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:', 'mariadb:'],
  redis: ['redis:'],
};

const DEFAULT_PORTS: Record<DatabaseKind, number> = { postgres: 5432, mysql: 3306, redis: 6379 };

/**
 * Reads `postgres://USER@HOST:PORT/DB`, `mysql://USER@HOST:PORT/DB` or `redis://HOST:PORT`.
 * A password in the URL is refused, not ignored: given on a command line it is already
 * visible to `ps` and kept in shell history, and it would end up in the snapshot's paths.
 */
export function parseDatabaseUrl(kind: DatabaseKind, url: string): DatabaseConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SourceError(`"${url}" is not a ${kind} URL: expected ${example(kind)}`);
  }
  if (!SCHEMES[kind].includes(parsed.protocol)) throw new SourceError(`"${url}" is not a ${kind} URL: expected ${example(kind)}`);
  if (parsed.password) {
    throw new SourceError(
      `the ${kind} URL must not carry a password (ps and shell history would show it): ` +
        `give it in a file (--db-password-file FILE) or in the client's own files (${kind === 'postgres' ? 'PGPASSFILE, ~/.pgpass' : kind === 'mysql' ? '~/.my.cnf' : 'REDISCLI_AUTH'})`,
    );
  }
  if (!parsed.hostname) throw new SourceError(`"${url}" names no host: expected ${example(kind)}`);
  const rawDatabase = parsed.pathname.replace(/^\//, '');
  if (rawDatabase.includes('/')) throw new SourceError(`"${url}": "${rawDatabase}" is not a database name (write a "/" inside a name as %2F)`);
  const database = decodeURIComponent(rawDatabase);
  if (kind === 'redis' && database !== '') throw new SourceError(`"${url}": a Redis backup takes the whole server; leave the path out (${example(kind)})`);
  return {
    host: parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[kind],
    ...(parsed.username ? { user: decodeURIComponent(parsed.username) } : {}),
    ...(database ? { database } : {}),
  };
}

/** The connection as a URL without password, for snapshot paths, logs and manifests. */
export function describeConnection(kind: DatabaseKind, connection: DatabaseConnection, database = connection.database): string {
  const user = connection.user ? `${encodeURIComponent(connection.user)}@` : '';
  const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host;
  const port = connection.port ? `:${connection.port}` : '';
  return `${kind}://${user}${host}${port}${database ? `/${encodeURIComponent(database)}` : ''}`;
}

function example(kind: DatabaseKind): string {
  return kind === 'redis' ? 'redis://HOST:PORT' : `${kind}://USER@HOST:PORT/DATABASE`;
}

/** A new directory only this user can read (mode 700), for password files handed to tools; the caller removes it. */
export async function makePrivateDir(context: ToolContext): Promise<string> {
  return mkdtemp(join(context.tempDir ?? tmpdir(), 'coffer-'));
}

/**
 * Runs `work` with a new directory only this user can read (mode 700), removed afterwards
 * whatever happens: the home of password files handed to tools.
 */
export async function withPrivateDir<T>(context: ToolContext, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makePrivateDir(context);
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
