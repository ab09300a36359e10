import { runTool } from '../process/run-tool';

/*
 * The real servers the source tests run against: the machine's MariaDB and Redis
 * (../shared/STACK.md; the PostgreSQL engine is tested through the CLI, apps/cli/src/database.int-spec.ts). Tests never skip when one is missing: they fail, naming the server
 * and the variable that points elsewhere.
 */

/** A MariaDB/MySQL server for tests: TEST_MYSQL_URL, default mysql://root@127.0.0.1:3306 (root, empty password). */
export const TEST_MYSQL_URL = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
/** A Redis server for tests: TEST_REDIS_URL, default redis://127.0.0.1:6379. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Fails (never skips) with a message naming the server when `probe` cannot reach it. */
export async function requireServer(name: string, variable: string, url: string, probe: () => Promise<unknown>): Promise<void> {
  try {
    await probe();
  } catch (err) {
    throw new Error(`these tests need ${name} at ${url} (${(err as Error).message.split('\n')[0]}); start it or point ${variable} at one`);
  }
}

/** Runs SQL on the test MariaDB/MySQL server and returns tab-separated rows without headers. */
export async function mysqlQuery(sql: string, database?: string): Promise<string> {
  const url = new URL(TEST_MYSQL_URL);
  const args = ['--batch', '--skip-column-names', '-h', url.hostname, '-P', url.port || '3306', '-u', decodeURIComponent(url.username || 'root')];
  if (database) args.push(database);
  return (await runTool('mariadb', args, { input: sql, label: 'mariadb' })).stdout.trim();
}
