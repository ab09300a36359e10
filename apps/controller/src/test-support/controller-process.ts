/**
 * The controller as integration and end-to-end tests meet it: the real built binary in a
 * child process, on a fresh PostgreSQL database (or the embedded one), driven over HTTP.
 * Build first: `npx tsc -b tsconfig.build.json` (or apps/controller/tsconfig.lib.json).
 *
 *   const database = await createTestDatabaseOrSkip();   // undefined: skip (never in CI)
 *   const controller = await startController({ databaseUrl: database.url });
 *   const token = await controller.login();
 *   const { status, body } = await controller.api('GET', '/api/v1/repositories', undefined, token);
 *   await controller.stop();
 *   await database.drop();
 */
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from 'pg';

/** The binary as `npx coffer-controller` runs it. */
export const CONTROLLER_BIN = resolve(__dirname, '../../bin/coffer-controller.js');
const BUILT_MAIN = resolve(__dirname, '../../dist/main.js');

/** Where tests create their databases unless TEST_DATABASE_URL says otherwise (the machine's PostgreSQL, trust auth). */
export const DEFAULT_TEST_DATABASE_URL = 'postgres://root@127.0.0.1:5432/postgres';

/** The user the controller creates first. */
export const ADMIN_USER = 'admin';

/** Fails early, with what to do, when the controller has not been built. */
export function assertControllerBuilt(): void {
  if (!existsSync(BUILT_MAIN)) throw new Error(`${BUILT_MAIN} is missing: build first with "npx tsc -b tsconfig.build.json"`);
}

// ---------------------------------------------------------------------------------------
// Databases

/** A database of its own for one test file. */
export interface TestDatabase {
  /** Connection URL for DATABASE_URL. */
  url: string;
  name: string;
  /** Drops the database (closing any connection still open to it). */
  drop(): Promise<void>;
}

/** No PostgreSQL to test against. `skipAllowed` is false when COFFER_TEST_DISALLOW_SKIP=1 (CI). */
export class TestDatabaseUnavailableError extends Error {
  constructor(
    message: string,
    readonly skipAllowed: boolean,
  ) {
    super(message);
    this.name = 'TestDatabaseUnavailableError';
  }
}

/** True unless COFFER_TEST_DISALLOW_SKIP=1: then a test that needs a server must fail without one. */
export function skipAllowed(): boolean {
  return process.env.COFFER_TEST_DISALLOW_SKIP !== '1';
}

/**
 * Creates a fresh database `coffer_test_<random>` on TEST_DATABASE_URL (default
 * postgres://root@127.0.0.1:5432/postgres). Throws TestDatabaseUnavailableError when the
 * server cannot be reached; see createTestDatabaseOrSkip.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
  const name = `coffer_test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUrl, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: () => withClient(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/**
 * createTestDatabase, or undefined (with a warning) when there is no server and skipping is
 * allowed; with COFFER_TEST_DISALLOW_SKIP=1 the error is thrown instead.
 */
export async function createTestDatabaseOrSkip(): Promise<TestDatabase | undefined> {
  try {
    return await createTestDatabase();
  } catch (err) {
    if (err instanceof TestDatabaseUnavailableError && err.skipAllowed) {
      console.warn(`skipping: ${err.message} (set COFFER_TEST_DISALLOW_SKIP=1 to make this a failure)`);
      return undefined;
    }
    throw err;
  }
}

async function withClient<T>(serverUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: serverUrl, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    const where = serverUrl.replace(/(\/\/[^/@:]*):[^/@]*@/, '$1:***@');
    const allowed = skipAllowed();
    throw new TestDatabaseUnavailableError(
      `no PostgreSQL for tests at ${where} (${(err as Error).message}); set TEST_DATABASE_URL${allowed ? '' : ' — COFFER_TEST_DISALLOW_SKIP=1 forbids skipping'}`,
      allowed,
    );
  }
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------
// Controller processes

/** How to start a controller. */
export interface StartControllerOptions {
  /** PostgreSQL URL (e.g. from createTestDatabase); undefined runs the embedded database. */
  databaseUrl?: string;
  /** Data directory; default a fresh temp dir, kept until the test process exits (restart tests reuse it). */
  dataDir?: string;
  /** Extra environment (COFFER_MASTER_KEY, COFFER_HEARTBEAT_INTERVAL, COFFER_SCHEDULER_TICK, …). */
  env?: Record<string, string>;
  /**
   * The first user's password. Undefined: a random one is set through COFFER_ADMIN_PASSWORD.
   * null: none is set; the controller generates one and `adminPassword` is read from its
   * output ('' when it printed none, i.e. not on a first start).
   */
  adminPassword?: string | null;
  /** Extra command-line arguments. */
  args?: string[];
  /** How long start-up may take (default 90 s: a first embedded start runs initdb). */
  readyTimeoutMs?: number;
}

/** A response of the REST API. */
export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** A started controller. */
export interface RunningController {
  httpUrl: string;
  /** Where agents dial: '127.0.0.1:PORT'. */
  grpcAddress: string;
  dataDir: string;
  adminPassword: string;
  pid: number;
  /** Everything it printed so far, stdout and stderr interleaved. */
  output(): string;
  /** Logs in as admin; returns the bearer token. */
  login(): Promise<string>;
  /**
   * One request: `body` is sent as JSON (a string is sent as is, for malformed bodies);
   * the response body is parsed as JSON when it is JSON, else returned as text.
   */
  api<T = unknown>(method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse<T>>;
  /** SIGTERM, then waits for a clean exit (fails the test if it takes too long). */
  stop(): Promise<void>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** The exit code once it has exited (null while running or when killed by a signal). */
  exitCode(): number | null;
}

/** What a run to completion (e.g. a start-up that must fail) left behind. */
export interface FinishedRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();
const madeDirectories: string[] = [];
// A test that fails before stop() must not leave controllers behind, nor temp dirs.
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of madeDirectories) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits (or earlier with removeDirectory). */
export function tempDirectory(label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `coffer-controller-${label}-`));
  madeDirectories.push(dir);
  return dir;
}

export function removeDirectory(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The environment a controller runs with: nothing from the developer's shell but PATH and the options. */
function controllerEnvironment(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', TZ: 'UTC' };
  for (const [key, value] of Object.entries(extra)) if (value !== undefined) env[key] = value;
  return env;
}

/**
 * Starts `coffer-controller --data-dir DIR --http-port 0 --grpc-port 0 --grpc-host 127.0.0.1`
 * and waits (with a deadline) until DATA_DIR/controller.json names this process and /readyz answers.
 */
export async function startController(options: StartControllerOptions = {}): Promise<RunningController> {
  assertControllerBuilt();
  const dataDir = options.dataDir ?? tempDirectory('data');
  const givenPassword = options.adminPassword === undefined ? `test-${randomBytes(12).toString('base64url')}` : options.adminPassword;
  const env = controllerEnvironment({
    DATABASE_URL: options.databaseUrl,
    COFFER_ADMIN_PASSWORD: givenPassword ?? undefined,
    ...options.env,
  });
  const args = [CONTROLLER_BIN, '--data-dir', dataDir, '--http-port', '0', '--grpc-port', '0', '--grpc-host', '127.0.0.1', ...(options.args ?? [])];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  // 'close', not 'exit': by then everything it printed has been read.
  let closed = false;
  const exited = new Promise<void>((resolveExit) =>
    child.once('close', () => {
      closed = true;
      running.delete(child);
      resolveExit();
    }),
  );

  const state = await waitUntilReady(child, dataDir, () => closed, () => output, options.readyTimeoutMs ?? 90_000);
  const adminPassword = givenPassword ?? /Initial admin password \(shown once\): (\S+)/.exec(output)?.[1] ?? '';
  const httpUrl = state.httpUrl;

  const api = async <T>(method: string, path: string, body?: unknown, token?: string): Promise<ApiResponse<T>> => {
    const headers: Record<string, string> = {};
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${httpUrl}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await response.text();
    let parsed: unknown = text;
    if ((response.headers.get('content-type') ?? '').includes('json') && text !== '') parsed = JSON.parse(text);
    return { status: response.status, body: parsed as T, headers: response.headers };
  };

  const waitForExit = async (what: string, timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolveTimeout) => (timer = setTimeout(() => resolveTimeout('timeout'), timeoutMs)));
    const outcome = await Promise.race([exited, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`the controller did not exit within ${timeoutMs / 1000} s of ${what}; output:\n${output}`);
    }
  };

  return {
    httpUrl,
    grpcAddress: `127.0.0.1:${state.grpcPort}`,
    dataDir,
    adminPassword,
    pid: child.pid!,
    output: () => output,
    api,
    login: async () => {
      const response = await api<{ token?: string }>('POST', '/api/v1/auth/login', { username: ADMIN_USER, password: adminPassword });
      if (response.status !== 200 || !response.body.token) throw new Error(`login as ${ADMIN_USER} failed: ${response.status} ${JSON.stringify(response.body)}`);
      return response.body.token;
    },
    stop: async () => {
      if (closed) return;
      child.kill('SIGTERM');
      await waitForExit('SIGTERM', 30_000);
    },
    kill: async () => {
      if (closed) return;
      child.kill('SIGKILL');
      await waitForExit('SIGKILL', 10_000);
    },
    exitCode: () => child.exitCode,
  };
}

async function waitUntilReady(
  child: ChildProcess,
  dataDir: string,
  closed: () => boolean,
  output: () => string,
  timeoutMs: number,
): Promise<{ httpUrl: string; grpcPort: number }> {
  const deadline = Date.now() + timeoutMs;
  const stateFile = join(dataDir, 'controller.json');
  for (;;) {
    if (closed()) {
      throw new Error(`the controller exited (${child.exitCode ?? child.signalCode}) before it was ready; output:\n${output()}`);
    }
    const state = readState(stateFile);
    // A controller.json left by an earlier run names another pid.
    if (state && state.pid === child.pid && (await answersReady(state.httpUrl))) return state;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the controller was not ready within ${timeoutMs / 1000} s; output:\n${output()}`);
    }
    await sleep(100);
  }
}

function readState(file: string): { pid: number; httpUrl: string; grpcPort: number } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined; // not written yet (or being replaced)
  }
}

async function answersReady(httpUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${httpUrl}/readyz`, { signal: AbortSignal.timeout(5_000) })).status === 200;
  } catch {
    return false;
  }
}

/**
 * Runs the controller binary with `args` and `env` (on top of a clean environment) until it
 * exits, for start-ups that must fail; killed after `timeoutMs`.
 */
export async function runControllerToExit(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<FinishedRun> {
  assertControllerBuilt();
  const child = spawn(process.execPath, [CONTROLLER_BIN, ...args], { env: controllerEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [status, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolveExit) => child.once('close', (code, sig) => resolveExit([code, sig])));
  clearTimeout(timer);
  running.delete(child);
  return { status, signal, stdout, stderr };
}

/** Resident memory of a process in bytes (Linux: VmRSS from /proc/PID/status). */
export function residentMemoryBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}
