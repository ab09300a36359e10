import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makePrivateDir } from '../database/connection-url';
import type { DatabaseConnection, ToolContext } from '../database/database-source';

/** The MariaDB/MySQL port when a connection names none. */
export const DEFAULT_MYSQL_PORT = 3306;

/** "127.0.0.1:3306", "[::1]:3306": how messages name a server. */
export function mysqlHostPort(connection: DatabaseConnection): string {
  const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host;
  return `${host}:${connection.port ?? DEFAULT_MYSQL_PORT}`;
}

/** How one tool run logs in: `args` go first on every client tool's command line. */
export interface MysqlLogin {
  /**
   * `--defaults-extra-file=FILE` first when there is a password (the tools accept that
   * option only in first place), then host, port and user. Never the password itself.
   */
  args: string[];
  /** Removes the password file; safe to call more than once. */
  dispose(): Promise<void>;
}

/**
 * Prepares the login arguments of `connection`. A password goes into an option file of mode
 * 600 inside a private directory, never onto a command line (ps shows those) nor into the
 * environment (MYSQL_PWD is visible in /proc to the same user and deprecated). Without a
 * password no file is written and the client's own option files (~/.my.cnf) apply as usual.
 */
export async function prepareMysqlLogin(connection: DatabaseConnection, context: ToolContext): Promise<MysqlLogin> {
  const hostArgs = ['--host', connection.host, '--port', String(connection.port ?? DEFAULT_MYSQL_PORT), ...(connection.user !== undefined ? ['--user', connection.user] : [])];
  if (connection.password === undefined) return { args: hostArgs, dispose: async () => undefined };
  const dir = await makePrivateDir(context);
  const file = join(dir, 'client.cnf');
  try {
    await writeFile(file, `# Written by Coffer for one backup or restore, removed when it ends.\n[client]\npassword=${optionFileValue(connection.password)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { args: [`--defaults-extra-file=${file}`, ...hostArgs], dispose: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * A value for a MariaDB/MySQL option file: double-quoted (so `#` and spaces are kept) with
 * the escapes the option-file reader undoes (mysys my_default.c: \\ \" \n \r \t).
 */
export function optionFileValue(value: string): string {
  const escaped = value.replace(/[\\"\n\r\t]/g, (c) => ({ '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' })[c]!);
  return `"${escaped}"`;
}
