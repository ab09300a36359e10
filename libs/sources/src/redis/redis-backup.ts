import { describeConnection } from '../database/connection-url';
import { DatabaseBackupPlan, DatabaseConnection, ToolContext } from '../database/database-source';
import { toolOutput } from '../process/tool-output';
import { findRedisCli, pingRedis, readRedisVersion } from './redis-cli';

/** The Redis server to snapshot (the whole server: every logical database). */
export interface RedisBackupSpec {
  connection: DatabaseConnection;
}

/** The snapshot file of a Redis backup. */
export const REDIS_RDB_FILE = 'dump.rdb';

/**
 * Size of the end-of-file marker redis-cli 7 writes after the RDB when it writes to stdout
 * and the server sends the RDB diskless (RDB_EOF_MARK_SIZE in redis-cli.c).
 */
const RDB_EOF_MARK_SIZE = 40;

/**
 * Preflight — redis-cli found, the server answers PING with the credentials given — then the
 * plan: ONE file, dump.rdb, the server's RDB as a replica would receive it (`redis-cli --rdb -`).
 */
export async function planRedisBackup(spec: RedisBackupSpec, context: ToolContext): Promise<DatabaseBackupPlan> {
  const cli = await findRedisCli(spec.connection, context);
  await pingRedis(cli, context);
  const serverVersion = await readRedisVersion(cli, context);
  const server = describeConnection('redis', { ...spec.connection, database: undefined });
  return {
    kind: 'redis',
    paths: [server],
    manifest: {
      version: 1,
      kind: 'redis',
      server,
      serverVersion,
      tool: { name: cli.tool.name, version: cli.tool.version },
      items: [{ file: REDIS_RDB_FILE, content: 'rdb', format: 'rdb' }],
    },
    files: [
      {
        name: REDIS_RDB_FILE,
        open: () =>
          toolOutput(cli.tool.path, [...cli.args, '--rdb', '-'], {
            env: cli.env,
            signal: context.signal,
            onStderrLine: (line) => context.log?.(`redis-cli: ${line}`),
            onProcessGroup: context.onProcessGroup,
            label: 'redis-cli --rdb',
            // Cut the end-of-file marker off: the stored file must be exactly the RDB.
            trim: { holdBack: RDB_EOF_MARK_SIZE, outputLength: rdbLengthFromStderr },
          }),
      },
    ],
    // Nothing to remove: the password lives only in the child's environment.
    dispose: async () => undefined,
  };
}

/**
 * The RDB's length as redis-cli reports it after a diskless transfer ("Transfer finished with
 * success after 186 bytes"); undefined after a transfer with a length prefix, which carries no
 * marker ("Transfer finished with success.").
 */
export function rdbLengthFromStderr(stderr: string): number | undefined {
  const match = /Transfer finished with success after (\d+) bytes/.exec(stderr);
  return match ? Number(match[1]) : undefined;
}
