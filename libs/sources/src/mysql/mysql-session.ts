import type { DatabaseConnection, ToolContext } from '../database/database-source';
import { SourceError } from '../database/database-source';
import { runTool, ToolFailedError } from '../process/run-tool';
import { truncate } from '../process/tool-output';
import { MysqlLogin, mysqlHostPort, prepareMysqlLogin } from './mysql-login';
import { findMysqlClient } from './mysql-tools';

/** A query that waits longer than this is stopped: preflight and catalog queries are quick. */
const QUERY_TIMEOUT_MS = 60_000;

/**
 * One login to a MariaDB/MySQL server through its command-line client, for the time of a
 * backup or restore. Opening it runs `SELECT VERSION()`, so a wrong host, port, user or
 * password is reported at once, as a SourceError that says what to do.
 */
export class MysqlSession {
  private constructor(
    readonly connection: DatabaseConnection,
    /** Path of `mariadb` or `mysql`. */
    readonly client: string,
    readonly login: MysqlLogin,
    private readonly context: ToolContext,
    /** As the server reports it: "10.11.19-MariaDB-0+deb12u1". */
    readonly serverVersion: string,
  ) {}

  /** Finds the client, writes the password file and logs in once; throws SourceError on any failure. */
  static async open(connection: DatabaseConnection, context: ToolContext): Promise<MysqlSession> {
    const client = await findMysqlClient(context);
    const login = await prepareMysqlLogin(connection, context);
    try {
      const rows = await runQuery(client, login, connection, context, 'SELECT VERSION()');
      return new MysqlSession(connection, client, login, context, rows[0]?.[0] ?? '');
    } catch (err) {
      await login.dispose();
      throw err;
    }
  }

  /** "127.0.0.1:3306". */
  get hostPort(): string {
    return mysqlHostPort(this.connection);
  }

  /** Runs SQL and returns the rows of its last result as columns of text ("NULL" for NULL). */
  query(sql: string): Promise<string[][]> {
    return runQuery(this.client, this.login, this.connection, this.context, sql);
  }

  /** Removes the password file. */
  dispose(): Promise<void> {
    return this.login.dispose();
  }
}

async function runQuery(client: string, login: MysqlLogin, connection: DatabaseConnection, context: ToolContext, sql: string): Promise<string[][]> {
  try {
    const { stdout } = await runTool(client, [...login.args, '--batch', '--skip-column-names', '--default-character-set=utf8mb4'], {
      input: sql,
      timeoutMs: QUERY_TIMEOUT_MS,
      signal: context.signal,
      label: 'the MariaDB/MySQL client',
    });
    return stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  } catch (err) {
    throw err instanceof ToolFailedError && err.exitCode !== null ? explainClientFailure(connection, err.stderr) : err;
  }
}

/**
 * Turns the client's "ERROR 1045 (28000): Access denied …" into a message for people: who
 * could not log in where, the server's own words, and what to check.
 */
export function explainClientFailure(connection: DatabaseConnection, stderr: string): SourceError {
  const errorLine = stderr.split('\n').find((line) => line.startsWith('ERROR ')) ?? stderr.split('\n').find((line) => line.trim() !== '') ?? '';
  const code = /^ERROR (\d+)/.exec(errorLine)?.[1];
  const reason = truncate(errorLine.replace(/^ERROR \d+ \([\w\d]+\)(?: at line \d+)?: /, '').trim(), 300);
  const where = mysqlHostPort(connection);
  const who = connection.user !== undefined ? `"${connection.user}"` : 'the default user (from ~/.my.cnf or your login name)';
  if (code === '1045' || code === '1698' || /Access denied for user/.test(reason)) {
    return new SourceError(`cannot log in to MariaDB/MySQL at ${where} as ${who}: the server says "${reason}"; check the user and the password`);
  }
  if (code !== undefined && /^200\d$/.test(code)) {
    return new SourceError(`cannot connect to MariaDB/MySQL at ${where} as ${who}: "${reason}"; check that the server is running and the host and port are right`);
  }
  return new SourceError(`MariaDB/MySQL at ${where} refused a query: "${reason}"`);
}

/** `name` as an SQL identifier: `shop`, with backticks doubled. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

/**
 * `text` as an SQL string: a hex literal with a character set introducer, which means the
 * same whatever the session's sql_mode (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) says.
 */
export function quoteString(text: string): string {
  return `_utf8mb4 X'${Buffer.from(text, 'utf8').toString('hex')}'`;
}
