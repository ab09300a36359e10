/**
 * The controller with no DATABASE_URL: the embedded PostgreSQL in DATA_DIR/db keeps its
 * data across restarts (also after kill -9), and one data directory serves one controller.
 * Prints the start times and resident memory it measured.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiErrorBody, LoginResponse, RepositoryView } from '@coffer/contracts';
import { removeDirectory, residentMemoryBytes, RunningController, startController, tempDirectory } from '../test-support/controller-process';

const MiB = 1024 * 1024;
let dataDir: string;
let storageDir: string;
const running: RunningController[] = [];

beforeAll(() => {
  dataDir = tempDirectory('embedded');
  storageDir = tempDirectory('embedded-storage');
});

afterAll(async () => {
  for (const controller of running) await controller.kill();
  removeDirectory(dataDir);
  removeDirectory(storageDir);
});

async function start(): Promise<{ controller: RunningController; seconds: number }> {
  const started = Date.now();
  const controller = await startController({ dataDir, adminPassword: null });
  running.push(controller);
  return { controller, seconds: (Date.now() - started) / 1000 };
}

async function loginWith(controller: RunningController, password: string): Promise<string> {
  const { status, body } = await controller.api<LoginResponse>('POST', '/api/v1/auth/login', { username: 'admin', password });
  expect(status).toBe(200);
  return body.token;
}

describe('the embedded database', () => {
  let adminPassword: string;
  const measurements: string[] = [];

  afterAll(() => {
    console.log(`embedded controller:\n  ${measurements.join('\n  ')}`);
  });

  it('starts without DATABASE_URL, printing a generated admin password once', async () => {
    const { controller, seconds } = await start();
    measurements.push(`first start (initdb + migrations): ${seconds.toFixed(1)} s, RSS ${(residentMemoryBytes(controller.pid) / MiB).toFixed(0)} MiB`);
    adminPassword = controller.adminPassword;
    expect(adminPassword).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(controller.output().match(/Initial admin password \(shown once\)/g)).toHaveLength(1);
    // Served on a unix socket in the private data directory, not on a port other users could reach.
    expect(statSync(join(dataDir, '.s.PGSQL.5432')).isSocket()).toBe(true);

    const token = await loginWith(controller, adminPassword);
    const created = await controller.api<RepositoryView>('POST', '/api/v1/repositories', { name: 'main', url: storageDir, password: 'repository password', initialize: true }, token);
    expect(created.status).toBe(201);
    const policy = await controller.api('PUT', '/api/v1/policies/nightly', { selector: {}, repository: 'main', sources: [{ files: { paths: ['/etc'] } }] }, token);
    expect(policy.status).toBe(200);
    measurements.push(`RSS after login, a repository and a policy: ${(residentMemoryBytes(controller.pid) / MiB).toFixed(0)} MiB`);
  });

  it('refuses a second controller on the same data directory while the first runs', async () => {
    const second = startController({ dataDir, adminPassword: null, readyTimeoutMs: 60_000 });
    await expect(second).rejects.toThrow(/another controller \(pid \d+\) is using the embedded database/);
  });

  it('keeps users, repositories and policies across a restart, and prints no password again', async () => {
    await running[0].stop();
    expect(running[0].exitCode()).toBe(0);

    const { controller, seconds } = await start();
    measurements.push(`restart: ${seconds.toFixed(1)} s, RSS ${(residentMemoryBytes(controller.pid) / MiB).toFixed(0)} MiB`);
    expect(controller.output()).not.toContain('Initial admin password');
    const token = await loginWith(controller, adminPassword);
    const repositories = await controller.api<RepositoryView[]>('GET', '/api/v1/repositories', undefined, token);
    expect(repositories.body.map((r) => r.name)).toEqual(['main']);
    expect((await controller.api('GET', '/api/v1/policies/nightly', undefined, token)).status).toBe(200);
  });

  it('survives kill -9: the next start takes over and finds everything', async () => {
    const previous = running[running.length - 1];
    const token = await loginWith(previous, adminPassword);
    expect((await previous.api('DELETE', '/api/v1/policies/nightly', undefined, token)).status).toBe(204);
    await previous.kill();

    const { controller, seconds } = await start();
    measurements.push(`start after kill -9: ${seconds.toFixed(1)} s`);
    const again = await loginWith(controller, adminPassword);
    expect((await controller.api<ApiErrorBody>('GET', '/api/v1/policies/nightly', undefined, again)).status).toBe(404);
    expect((await controller.api<RepositoryView[]>('GET', '/api/v1/repositories', undefined, again)).body).toHaveLength(1);
    await controller.stop();
    expect(controller.exitCode()).toBe(0);
  });
});
