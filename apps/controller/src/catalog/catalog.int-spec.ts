/**
 * The catalog as an index of storage: snapshots the CLI wrote straight into a repository
 * show up in GET /snapshots after a sync, and ones removed from storage are marked forgotten.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ApiErrorBody, CatalogSnapshotView, CatalogSyncResult } from '@coffer/contracts';
import { createTestDatabaseOrSkip, removeDirectory, RunningController, startController, tempDirectory, TestDatabase } from '../test-support/controller-process';

const COFFER_CLI = resolve(__dirname, '../../../cli/bin/coffer.js');
const PASSWORD = 'catalog test password';

let database: TestDatabase | undefined;
let controller: RunningController;
let token: string;
let workDir: string;
let repoDir: string;
let sourceDir: string;
let passwordFile: string;

/** Runs the `coffer` CLI to completion; returns its parsed --json output. */
function coffer<T>(args: string[]): T {
  const run = spawnSync(process.execPath, [COFFER_CLI, ...args, '--json'], {
    env: { PATH: process.env.PATH, COFFER_PASSWORD_FILE: passwordFile, TZ: 'UTC' },
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (run.status !== 0) throw new Error(`coffer ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

beforeAll(async () => {
  database = await createTestDatabaseOrSkip();
  if (!database) return;
  if (!existsSync(resolve(__dirname, '../../../cli/dist/main.js'))) throw new Error('the CLI is not built: npx tsc -b tsconfig.build.json');
  workDir = tempDirectory('catalog');
  repoDir = join(workDir, 'repo');
  sourceDir = join(workDir, 'www');
  passwordFile = join(workDir, 'password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  mkdirSync(sourceDir);
  writeFileSync(join(sourceDir, 'index.html'), '<h1>hello</h1>\n');
  writeFileSync(join(sourceDir, 'app.js'), 'console.log("hi");\n');
  controller = await startController({ databaseUrl: database.url });
  token = await controller.login();
});

afterAll(async () => {
  await controller?.stop();
  await database?.drop();
  if (workDir) removeDirectory(workDir);
});

const withDatabase = (name: string, test: () => Promise<void>) => it(name, async () => (database ? test() : undefined));
const api = <T>(method: string, path: string, body?: unknown) => controller.api<T>(method, path, body, token);

describe('catalog sync', () => {
  let first: { id: string };
  let second: { id: string };

  withDatabase('adds the snapshots a CLI backup stored', async () => {
    coffer(['repo', 'init', '--repo', repoDir]);
    first = coffer<{ id: string }>(['repo', 'backup', '--repo', repoDir, '--host', 'web-1', '--tag', 'policy=nightly', sourceDir]);
    writeFileSync(join(sourceDir, 'new.txt'), 'more\n');
    second = coffer<{ id: string }>(['repo', 'backup', '--repo', repoDir, '--host', 'web-1', sourceDir]);

    expect((await api('POST', '/api/v1/repositories', { name: 'main', url: repoDir, password: PASSWORD })).status).toBe(201);
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots')).body).toEqual([]);

    const sync = await api<CatalogSyncResult>('POST', '/api/v1/repositories/main/sync');
    expect(sync).toMatchObject({ status: 200, body: { repository: 'main', total: 2, added: 2, removed: 0 } });

    const { status, body } = await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots');
    expect(status).toBe(200);
    expect(body.map((s) => s.id)).toEqual([second.id, first.id]); // newest first
    expect(body[1]).toEqual({
      id: first.id,
      shortId: first.id.slice(0, 8),
      repository: 'main',
      agent: null,
      hostname: 'web-1',
      policy: 'nightly',
      sourceKind: 'files',
      paths: [sourceDir],
      tags: ['policy=nightly'],
      time: expect.any(String),
      files: 2,
      bytesRead: expect.any(Number),
      bytesNew: expect.any(Number),
      bytesStored: expect.any(Number),
      durationSeconds: expect.any(Number),
      status: 'available',
      jobId: null,
    });
    expect(body[0].files).toBe(3);
  });

  withDatabase('filters by policy and repository', async () => {
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots?policy=nightly')).body.map((s) => s.id)).toEqual([first.id]);
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots?repository=main')).body).toHaveLength(2);
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots?repository=other')).body).toEqual([]);
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots?agent=web-1')).body).toEqual([]);
  });

  withDatabase('is idempotent', async () => {
    expect((await api<CatalogSyncResult>('POST', '/api/v1/repositories/main/sync')).body).toEqual({ repository: 'main', total: 2, added: 0, removed: 0 });
    expect((await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots')).body).toHaveLength(2);
  });

  withDatabase('marks snapshots removed from storage as forgotten', async () => {
    coffer(['repo', 'forget', '--repo', repoDir, '--keep-last', '1']);
    expect((await api<CatalogSyncResult>('POST', '/api/v1/repositories/main/sync')).body).toEqual({ repository: 'main', total: 1, added: 0, removed: 1 });
    const entries = await api<CatalogSnapshotView[]>('GET', '/api/v1/snapshots');
    expect(entries.body.map((s) => [s.id, s.status])).toEqual([
      [second.id, 'available'],
      [first.id, 'forgotten'],
    ]);
  });

  withDatabase('is 404 for an unknown repository', async () => {
    const { status, body } = await api<ApiErrorBody>('POST', '/api/v1/repositories/nope/sync');
    expect(status).toBe(404);
    expect(body.error.code).toBe('not_found');
  });

  withDatabase('refuses a malformed filter with 400', async () => {
    const { status, body } = await api<ApiErrorBody>('GET', '/api/v1/snapshots?policy=a&policy=b');
    expect(status).toBe(400);
    expect(body.error.code).toBe('invalid_request');
  });
});
