import { ChildProcess, spawn } from 'node:child_process';
import { open as openFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { SourceError } from '../database/database-source';
import { runTool } from '../process/run-tool';
import { findOnPath } from '../process/tool-detector';
import { REDIS_RDB_FILE } from './redis-backup';

/** A redis-server started on a restored RDB. */
export interface StartedRedisServer {
  pid: number;
  port: number;
  /** Shuts the server down (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Options of startRedisServer. */
export interface RedisServerOptions {
  dir: string;
  port: number;
  /** Address to bind; default 127.0.0.1. */
  host?: string;
  /** The server outlives this process; its pid is in dir/redis.pid. */
  detach?: boolean;
  /** How long loading the RDB may take; default 10 minutes. */
  readyTimeoutMs?: number;
}

const POLL_MS = 100;
const STOP_GRACE_MS = 10_000;

/**
 * Starts redis-server on `dir`/dump.rdb at `port` (persistence off: a restored copy for
 * drills and checks must never write over the file it was started from), and resolves once
 * it answers PING and INFO persistence shows loading:0. Rejects with a SourceError quoting
 * its log (dir/redis.log) when the port is taken or the RDB cannot be loaded.
 *
 * detach: rather than `--daemonize yes`, the server is started in its own session and not
 * waited for, with `--pidfile dir/redis.pid`. It outlives this process the same way, but
 * its pid is known at once and an early exit is seen at once instead of by a timeout.
 */
export async function startRedisServer(options: RedisServerOptions): Promise<StartedRedisServer> {
  const serverPath = await requireTool('redis-server');
  const cliPath = await requireTool('redis-cli');
  const dir = resolve(options.dir);
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new SourceError(`${dir} is not a directory: restore the RDB into it first`);
  const host = options.host ?? '127.0.0.1';
  const logFile = join(dir, 'redis.log');
  const logStart = await stat(logFile).then((s) => s.size, () => 0);
  const args = ['--port', String(options.port), '--bind', host, '--dir', dir, '--dbfilename', REDIS_RDB_FILE, '--save', '', '--appendonly', 'no', '--logfile', logFile];
  if (options.detach) args.push('--pidfile', join(dir, 'redis.pid'));

  const child = spawn(serverPath, args, { stdio: 'ignore', detached: !!options.detach });
  const exit = watchExit(child);
  if (options.detach) child.unref();
  const server = { pid: child.pid ?? 0, port: options.port, stop: () => stopServer(child, exit) };
  const readyTimeoutMs = options.readyTimeoutMs ?? 10 * 60_000;
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    await delay(POLL_MS);
    if (exit.status) throw await startFailure(exit.status, dir, logFile, logStart, host, options.port);
    if (await isReady(cliPath, host, options.port, server.pid)) return server;
    if (Date.now() > deadline) {
      await server.stop();
      throw new SourceError(`redis-server on ${host}:${options.port} was not ready within ${Math.round(readyTimeoutMs / 1000)} s and was stopped; see ${logFile}`);
    }
  }
}

interface ExitWatch {
  /** Set once the process exited. */
  status?: string;
  done: Promise<void>;
}

function watchExit(child: ChildProcess): ExitWatch {
  const watch: ExitWatch = { done: Promise.resolve() };
  watch.done = new Promise((resolveDone) => {
    child.once('error', (err) => {
      watch.status = `could not start: ${err.message}`;
      resolveDone();
    });
    child.once('exit', (code, signal) => {
      watch.status = signal ? `killed by ${signal}` : `exited with status ${code}`;
      resolveDone();
    });
  });
  return watch;
}

/**
 * Ready = PING answers PONG and INFO shows the data loaded, from THIS process: when the port
 * is taken, another server answers there until ours gives up.
 */
async function isReady(cli: string, host: string, port: number, pid: number): Promise<boolean> {
  const env = { ...process.env };
  delete env.REDISCLI_AUTH; // the restored server has no password; a stray AUTH would only add noise
  const ask = (command: string[]) => runTool(cli, ['-h', host, '-p', String(port), ...command], { env, timeoutMs: 5_000, label: 'redis-cli' }).then((run) => run.stdout, () => '');
  if ((await ask(['PING'])).trim() !== 'PONG') return false;
  const info = await ask(['INFO']); // the default sections hold server and persistence, on every version
  return new RegExp(`^process_id:${pid}\\r?$`, 'm').test(info) && /^loading:0\r?$/m.test(info);
}

async function stopServer(child: ChildProcess, exit: ExitWatch): Promise<void> {
  if (exit.status) return;
  child.kill('SIGTERM');
  const grace = new AbortController();
  const stopped = await Promise.race([exit.done.then(() => true), delay(STOP_GRACE_MS, false, { signal: grace.signal }).catch(() => false)]);
  grace.abort(); // a pending grace timer would keep the process alive for nothing
  if (!stopped) {
    child.kill('SIGKILL');
    await exit.done;
  }
}

/** Why the server exited before it was ready, from what it wrote into its log this time. */
async function startFailure(status: string, dir: string, logFile: string, logStart: number, host: string, port: number): Promise<SourceError> {
  const problems = (await readFrom(logFile, logStart)).split('\n').flatMap((line) => {
    const warning = /^\d+:\w \d+ \w+ \d+ [\d:.]+ # (.*)$/.exec(line)?.[1];
    return warning && !/^(WARNING|oO0Oo|Redis version=|Configuration loaded)/.test(warning) ? [warning.trim()] : [];
  });
  if (problems.some((line) => line.includes('Address already in use'))) {
    return new SourceError(`redis-server cannot listen on ${host}:${port}: the port is taken; pick another port or stop what uses it`);
  }
  // Redis ends with "Terminating server after rdb file reading failure." after the line that
  // says what was wrong: report the cause.
  const cause = problems.filter((line) => !/^Terminating server/.test(line));
  const reason = cause.pop() ?? problems.pop();
  if (problems.some((line) => /loading DB|RDB/i.test(line)) || (reason && /RDB/i.test(reason))) {
    return new SourceError(`redis-server cannot load ${join(dir, REDIS_RDB_FILE)}: "${reason}" (see ${logFile})`);
  }
  return new SourceError(`redis-server ${status} before it was ready${reason ? `: "${reason}"` : ''} (see ${logFile})`);
}

async function readFrom(path: string, offset: number): Promise<string> {
  const handle = await openFile(path, 'r').catch(() => undefined);
  if (!handle) return '';
  try {
    const { size } = await handle.stat();
    const length = Math.min(Math.max(size - offset, 0), 256 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

async function requireTool(name: string): Promise<string> {
  const path = await findOnPath(name, process.env.PATH ?? '');
  if (!path) throw new SourceError(`${name} is not on the PATH: install redis-server (Debian: apt install redis-server)`);
  return path;
}
