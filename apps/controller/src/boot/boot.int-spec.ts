/**
 * Starting and stopping the built controller: configuration errors, an unreachable
 * database, the files it keeps in its data directory, and a clean stop on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createTestDatabaseOrSkip,
  removeDirectory,
  runControllerToExit,
  startController,
  tempDirectory,
  TestDatabase,
} from '../test-support/controller-process';

const dirs: string[] = [];
const dataDir = () => {
  const dir = tempDirectory('boot');
  dirs.push(dir);
  return dir;
};

afterAll(() => dirs.forEach(removeDirectory));

describe('configuration errors', () => {
  it('stop start-up with exit code 2 and one message naming every bad variable, no stack trace', async () => {
    const run = await runControllerToExit(['--data-dir', dataDir()], { COFFER_HTTP_PORT: 'abc', COFFER_MASTER_KEY: 'short' });
    expect(run.status).toBe(2);
    expect(run.stderr).toBe(
      'coffer-controller: invalid configuration:\n' +
        '  COFFER_HTTP_PORT: must be a port number 0-65535, got "abc"\n' +
        '  COFFER_MASTER_KEY: must be 32 bytes as base64 (44 characters) or as 64 hex digits; the value given has 5 characters (generate one with: openssl rand -base64 32)\n',
    );
    expect(run.stdout).toBe('');
  });

  it('require a data directory', async () => {
    const run = await runControllerToExit([]);
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('COFFER_DATA_DIR: is required');
  });

  it('include unknown options (exit 2), while --help prints every option and variable (exit 0)', async () => {
    const unknown = await runControllerToExit(['--data-dir', dataDir(), '--colour']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toBe("coffer-controller: unknown option '--colour'\n");

    const help = await runControllerToExit(['--help']);
    expect(help.status).toBe(0);
    for (const word of ['--data-dir', '--http-port', '--grpc-host', 'DATABASE_URL', 'COFFER_MASTER_KEY', 'COFFER_SCHEDULER_TICK', 'COFFER_TLS_SERVER_NAMES']) {
      expect(help.stdout).toContain(word);
    }
  });
});

describe('the data directory', () => {
  it('is refused when shared with other users (sticky bit, like /tmp)', async () => {
    const run = await runControllerToExit(['--data-dir', '/tmp', '--http-port', '0', '--grpc-port', '0']);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('coffer-controller: the data directory /tmp is a shared directory (sticky bit): give the controller a directory of its own\n');
  });
});

describe('an unreachable DATABASE_URL', () => {
  it('is one clear line and exit code 1, without the password', async () => {
    const run = await runControllerToExit(['--data-dir', dataDir(), '--http-port', '0'], { DATABASE_URL: 'postgres://coffer:hunter2-secret@127.0.0.1:1/coffer' });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe('coffer-controller: cannot connect to the database at postgres://127.0.0.1:1/coffer: connection refused\n');
    expect(run.stdout + run.stderr).not.toContain('hunter2');
  });
});

describe('on a PostgreSQL database', () => {
  let database: TestDatabase | undefined;

  beforeAll(async () => {
    database = await createTestDatabaseOrSkip();
  });

  let afterThis: (() => Promise<void>) | undefined;

  afterEach(async () => {
    await afterThis?.();
    afterThis = undefined;
  });

  afterAll(async () => {
    await database?.drop();
  });

  it('keeps private files in the data directory and removes controller.json on SIGTERM (exit 0)', async () => {
    if (!database) return;
    const dir = join(dataDir(), 'nested', 'data');
    const controller = await startController({ databaseUrl: database.url, dataDir: dir });
    afterThis = () => controller.stop();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'master.key')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'controller.json')).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(join(dir, 'controller.json'), 'utf8'))).toEqual({
      pid: controller.pid,
      httpUrl: controller.httpUrl,
      grpcPort: expect.any(Number),
      startedAt: expect.any(String),
    });
    expect(controller.output()).toMatch(/Coffer controller ready: http:\/\/127\.0\.0\.1:\d+ \(API \/api\/v1, docs \/api\/docs\); agents connect to 127\.0\.0\.1:\d+\n/);
    expect(controller.output()).not.toContain(readFileSync(join(dir, 'master.key'), 'utf8').trim());

    await controller.stop();
    expect(controller.exitCode()).toBe(0);
    expect(existsSync(join(dir, 'controller.json'))).toBe(false);
  });

  it('refuses to start with a master key that does not open the stored secrets', async () => {
    if (!database) return;
    const own = (await createTestDatabaseOrSkip())!;
    try {
      const first = await startController({ databaseUrl: own.url, env: { COFFER_MASTER_KEY: randomBytes(32).toString('base64') } });
      dirs.push(first.dataDir);
      try {
        const token = await first.login();
        const created = await first.api('POST', '/api/v1/repositories', { name: 'keyed', url: dataDir(), password: 'repository password', initialize: true }, token);
        expect(created.status).toBe(201);
      } finally {
        await first.stop();
      }
      const run = await runControllerToExit(['--data-dir', dataDir(), '--http-port', '0', '--grpc-port', '0'], {
        DATABASE_URL: own.url,
        COFFER_MASTER_KEY: randomBytes(32).toString('hex'),
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toBe(
        'coffer-controller: the master key does not open the secrets stored for repository "keyed": start with the master key they were stored with (COFFER_MASTER_KEY or DATA_DIR/master.key)\n',
      );
    } finally {
      await own.drop();
    }
  });
});
