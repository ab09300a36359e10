import { DatabaseConnection, SourceError, ToolContext } from '../database/database-source';
import { runTool, ToolFailedError } from '../process/run-tool';
import { detectTools, ToolVersion } from '../process/tool-detector';
import { truncate } from '../process/tool-output';

/** The Redis port when a connection names none. */
export const DEFAULT_REDIS_PORT = 6379;

/** A quick command (PING, INFO) that waits longer than this is stopped. */
const COMMAND_TIMEOUT_MS = 30_000;

/** redis-cli found on the PATH, and how it reaches one server. */
export interface RedisCli {
  tool: ToolVersion;
  connection: DatabaseConnection;
  /** `-h HOST -p PORT [--user USER]`: first on every command line. Never the password. */
  args: string[];
  /**
   * The child's environment: a password goes in REDISCLI_AUTH, which only that child sees
   * (an `-a PASSWORD` argument would show in ps). Without one, the caller's own REDISCLI_AUTH
   * applies as usual.
   */
  env: NodeJS.ProcessEnv;
}

/** Finds redis-cli on the context's PATH (SourceError when missing) and prepares its login. */
export async function findRedisCli(connection: DatabaseConnection, context: ToolContext): Promise<RedisCli> {
  const [tool] = await detectTools(['redis-cli'], context.path ?? process.env.PATH ?? '');
  if (!tool.path) throw new SourceError('redis-cli is not on the PATH: install the Redis client tools (Debian: apt install redis-tools)');
  return {
    tool,
    connection,
    args: ['-h', connection.host, '-p', String(connection.port ?? DEFAULT_REDIS_PORT), ...(connection.user !== undefined ? ['--user', connection.user] : [])],
    env: connection.password !== undefined ? { ...process.env, REDISCLI_AUTH: connection.password } : process.env,
  };
}

/** "127.0.0.1:6379", "[::1]:6379": how messages name a server. */
export function redisHostPort(connection: DatabaseConnection): string {
  const host = connection.host.includes(':') ? `[${connection.host}]` : connection.host;
  return `${host}:${connection.port ?? DEFAULT_REDIS_PORT}`;
}

/**
 * PING, with every way it goes wrong turned into a message that says what to do. redis-cli
 * exits 0 even when the server answers NOAUTH, so the answer itself is checked.
 */
export async function pingRedis(cli: RedisCli, context: ToolContext): Promise<void> {
  const { stdout, stderr } = await redisCommand(cli, ['PING'], context);
  if (stdout.trim() === 'PONG') return;
  const where = redisHostPort(cli.connection);
  const wrongPassword = /WRONGPASS[^\n]*/.exec(stderr + stdout);
  if (wrongPassword) throw new SourceError(`Redis at ${where} refused the password: "${wrongPassword[0].trim()}"; check the password you gave${cli.connection.user !== undefined ? ` for user "${cli.connection.user}"` : ''}`);
  if (/NOAUTH/.test(stdout + stderr)) throw new SourceError(`Redis at ${where} requires a password: give it in a file (--db-password-file FILE) or in REDISCLI_AUTH`);
  throw new SourceError(`Redis at ${where} answered PING with "${truncate(firstLine(stdout) || firstLine(stderr), 200)}"`);
}

/** The server's version from INFO server ("7.0.15"); "" when it does not say. */
export async function readRedisVersion(cli: RedisCli, context: ToolContext): Promise<string> {
  const { stdout } = await redisCommand(cli, ['INFO', 'server'], context);
  return /^redis_version:(\S+)/m.exec(stdout)?.[1] ?? '';
}

/** Runs one redis-cli command; a connection failure becomes a SourceError naming host:port. */
async function redisCommand(cli: RedisCli, command: string[], context: ToolContext): Promise<{ stdout: string; stderr: string }> {
  try {
    return await runTool(cli.tool.path, [...cli.args, ...command], { env: cli.env, timeoutMs: COMMAND_TIMEOUT_MS, signal: context.signal, label: 'redis-cli' });
  } catch (err) {
    if (!(err instanceof ToolFailedError) || err.exitCode === null) throw err;
    const reason = firstLine(err.stderr).replace(/^Could not connect to Redis at \S+: /, '');
    throw new SourceError(`cannot connect to Redis at ${redisHostPort(cli.connection)}: "${truncate(reason, 200)}"; check that the server is running and the host and port are right`);
  }
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim() !== '')?.trim() ?? '';
}
