/**
 * Registering repositories through the API of the built controller: storage is really
 * created/opened on local temp dirs, and secrets never come back or reach the log.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiErrorBody, RepositoryView } from '@coffer/contracts';
import { createTestDatabaseOrSkip, removeDirectory, RunningController, startController, tempDirectory, TestDatabase } from '../test-support/controller-process';

const PASSWORD = 'correct horse battery staple';
const SECRET_ENV = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEYID', AWS_SECRET_ACCESS_KEY: 'very-secret-access-key-value' };

let database: TestDatabase | undefined;
let controller: RunningController;
let token: string;
let storageDir: string;

beforeAll(async () => {
  database = await createTestDatabaseOrSkip();
  if (!database) return;
  controller = await startController({ databaseUrl: database.url });
  token = await controller.login();
  storageDir = tempDirectory('storage');
});

afterAll(async () => {
  await controller?.stop();
  await database?.drop();
  if (storageDir) removeDirectory(storageDir);
});

const withDatabase = (name: string, test: () => Promise<void>) => it(name, async () => (database ? test() : undefined));
const api = <T>(method: string, path: string, body?: unknown) => controller.api<T>(method, path, body, token);

describe('POST /api/v1/repositories', () => {
  withDatabase('creates the repository in storage with initialize: true and never returns its secrets', async () => {
    const url = join(storageDir, 'main');
    const { status, body } = await api<RepositoryView>('POST', '/api/v1/repositories', { name: 'main', url, password: PASSWORD, environment: SECRET_ENV, initialize: true });
    expect(status).toBe(201);
    expect(body).toEqual({ id: expect.any(String), name: 'main', url, environmentKeys: ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'], createdAt: expect.any(String) });
    expect(existsSync(join(url, 'config'))).toBe(true);

    const listing = await api<RepositoryView[]>('GET', '/api/v1/repositories');
    expect(listing.status).toBe(200);
    expect(listing.body).toEqual([body]);
    for (const text of [JSON.stringify(body), JSON.stringify(listing.body), controller.output()]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(SECRET_ENV.AWS_SECRET_ACCESS_KEY);
      expect(text).not.toContain(SECRET_ENV.AWS_ACCESS_KEY_ID);
    }
  });

  withDatabase('registers an existing repository when the password opens it', async () => {
    const { status, body } = await api<RepositoryView>('POST', '/api/v1/repositories', { name: 'main-again', url: join(storageDir, 'main'), password: PASSWORD });
    expect(status).toBe(201);
    expect(body.environmentKeys).toEqual([]);
  });

  withDatabase('refuses a taken name with 409 already_exists', async () => {
    const { status, body } = await api<ApiErrorBody>('POST', '/api/v1/repositories', { name: 'main', url: join(storageDir, 'other'), password: PASSWORD, initialize: true });
    expect(status).toBe(409);
    expect(body.error).toEqual({ code: 'already_exists', message: 'a repository named "main" is already registered' });
    expect(existsSync(join(storageDir, 'other'))).toBe(false);
  });

  withDatabase('refuses a wrong password on an existing repository with 422 wrong_password (with or without initialize)', async () => {
    const url = join(storageDir, 'main');
    for (const initialize of [false, true]) {
      const { status, body } = await api<ApiErrorBody>('POST', '/api/v1/repositories', { name: 'wrong', url, password: 'not the password', initialize });
      expect(status).toBe(422);
      expect(body.error).toEqual({ code: 'wrong_password', message: `the password does not open the repository at ${url}` });
    }
  });

  withDatabase('refuses a location without a repository unless initialize is set: 422 not_a_repository', async () => {
    const url = join(storageDir, 'empty');
    const { status, body } = await api<ApiErrorBody>('POST', '/api/v1/repositories', { name: 'empty', url, password: PASSWORD });
    expect(status).toBe(422);
    expect(body.error).toEqual({ code: 'not_a_repository', message: `no Coffer repository at ${url}; pass initialize: true (coffer repos add --init) to create one` });
  });

  withDatabase('refuses an unsupported storage with 422 and the storage library\'s message', async () => {
    const { status, body } = await api<ApiErrorBody>('POST', '/api/v1/repositories', { name: 'cloud', url: 'gopher://example.com/repo', password: PASSWORD, initialize: true });
    expect(status).toBe(422);
    expect(body.error.code).toBe('storage_error');
    expect(body.error.message).toContain('storage "gopher://example.com/repo" is not supported (supported: a local path, file:///path, s3:');
  });

  withDatabase('refuses a malformed request with 400 invalid_request naming each field', async () => {
    const { status, body } = await api<ApiErrorBody>('POST', '/api/v1/repositories', { name: 'Bad Name', url: '', environment: { 'not a var': 'x' }, extra: true });
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
    expect((body.error.details as { path: string }[]).map((p) => p.path)).toEqual(['name', 'url', 'password', 'environment.not a var', '(document)']);
  });
});

describe('DELETE /api/v1/repositories/:name', () => {
  withDatabase('is 409 in_use while a policy names the repository, 204 once none does', async () => {
    const policy = { selector: {}, repository: 'main-again', sources: [{ files: { paths: ['/srv'] } }] };
    expect((await api('PUT', '/api/v1/policies/uses-it', policy)).status).toBe(200);

    const refused = await api<ApiErrorBody>('DELETE', '/api/v1/repositories/main-again');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('in_use');
    expect(refused.body.error.message).toContain('uses-it');

    expect((await api('DELETE', '/api/v1/policies/uses-it')).status).toBe(204);
    const deleted = await api('DELETE', '/api/v1/repositories/main-again');
    expect(deleted.status).toBe(204);
    expect((await api<RepositoryView[]>('GET', '/api/v1/repositories')).body.map((r) => r.name)).toEqual(['main']);
    expect(existsSync(join(storageDir, 'main', 'config'))).toBe(true); // storage is untouched
  });

  withDatabase('is 404 not_found for an unknown name', async () => {
    const { status, body } = await api<ApiErrorBody>('DELETE', '/api/v1/repositories/nothing-here');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });
});
