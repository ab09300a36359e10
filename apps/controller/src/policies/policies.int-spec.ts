/** Applying policies through the API of the built controller: validation, normalization, diffs. */
import type { ApiErrorBody, ApplyPolicyResult, PolicyView } from '@coffer/contracts';
import { createTestDatabaseOrSkip, removeDirectory, RunningController, startController, tempDirectory, TestDatabase } from '../test-support/controller-process';

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
  const created = await controller.api('POST', '/api/v1/repositories', { name: 'main', url: storageDir, password: 'repository password', initialize: true }, token);
  expect(created.status).toBe(201);
});

afterAll(async () => {
  await controller?.stop();
  await database?.drop();
  if (storageDir) removeDirectory(storageDir);
});

const withDatabase = (name: string, test: () => Promise<void>) => it(name, async () => (database ? test() : undefined));
const api = <T>(method: string, path: string, body?: unknown) => controller.api<T>(method, path, body, token);

const WEB = {
  name: 'web-files',
  selector: { role: 'web' },
  repository: 'main',
  sources: [{ files: { paths: ['/var/www'], exclude: ['*.tmp'] } }],
  schedules: [{ cron: '0 2 * * *', timezone: 'Europe/Berlin' }],
  retention: { keepDaily: 7 },
};

describe('PUT /api/v1/policies/:name', () => {
  withDatabase('creates, then leaves unchanged, then updates with the exact changes', async () => {
    const created = await api<ApplyPolicyResult>('PUT', '/api/v1/policies/web-files', WEB);
    expect(created.status).toBe(200);
    expect(created.body.result).toBe('created');
    expect(created.body.changes).toEqual([]);
    expect(created.body.policy.document).toEqual({
      ...WEB,
      enabled: true,
      sources: [{ files: { paths: ['/var/www'], include: [], exclude: ['*.tmp'], oneFileSystem: false } }],
      timeout: '6h',
      retries: { max: 0, backoff: '5m' },
      maxJobsPerAgent: 1,
      startDeadline: '1h',
      tags: [],
    });
    expect(Date.parse(created.body.policy.nextRunAt!)).toBeGreaterThan(Date.now());

    // Without the name, and with the defaults spelled out, it is the same document.
    const withoutName: Partial<typeof WEB> = { ...WEB };
    delete withoutName.name;
    const again = await api<ApplyPolicyResult>('PUT', '/api/v1/policies/web-files', { ...withoutName, enabled: true, timeout: '6h' });
    expect(again.body).toMatchObject({ result: 'unchanged', changes: [] });
    expect(again.body.policy.updatedAt).toBe(created.body.policy.updatedAt);

    const updated = await api<ApplyPolicyResult>('PUT', '/api/v1/policies/web-files', {
      ...WEB,
      schedules: [{ cron: '30 1 * * *', timezone: 'Europe/Berlin' }, { cron: '0 12 * * 0' }],
      retention: { keepDaily: 14, keepWeekly: 4 },
      sources: [{ files: { paths: ['/var/www'] } }],
      timeout: '2h',
    });
    expect(updated.status).toBe(200);
    expect(updated.body.result).toBe('updated');
    expect(updated.body.changes).toEqual([
      { path: 'sources.0.files.exclude.0', from: '*.tmp', to: null },
      { path: 'schedules.0.cron', from: '0 2 * * *', to: '30 1 * * *' },
      { path: 'schedules.1', from: null, to: { cron: '0 12 * * 0', timezone: 'UTC' } },
      { path: 'retention.keepDaily', from: 7, to: 14 },
      { path: 'retention.keepWeekly', from: null, to: 4 },
      { path: 'timeout', from: '6h', to: '2h' },
    ]);
    expect(Date.parse(updated.body.policy.updatedAt)).toBeGreaterThan(Date.parse(created.body.policy.updatedAt));
  });

  withDatabase('refuses an invalid document with 422 invalid_policy listing every problem by field path', async () => {
    const { status, body } = await api<ApiErrorBody>('PUT', '/api/v1/policies/broken', {
      name: 'other-name',
      selector: { role: 'db' },
      repository: 'nowhere',
      sources: [{ files: { paths: ['relative/path'] } }, { command: { run: 'pg_dumpall' } }],
      schedules: [{ cron: 'every day' }, { cron: '0 2 * * *', timezone: 'Mars/Olympus' }],
      retention: { keepDaily: -1 },
      maxJobsPerAgent: 0,
      surprise: true,
    });
    expect(status).toBe(422);
    expect(body.error.code).toBe('invalid_policy');
    const problems = body.error.details as { path: string; reason: string }[];
    expect(body.error.message).toBe(`policy "broken" is invalid: ${problems.length} problems`);
    expect(problems.map((p) => p.path)).toEqual([
      'name',
      'sources.0.files.paths.0',
      'sources.1.command.filename',
      'schedules.0.cron',
      'schedules.1.timezone',
      'retention.keepDaily',
      'maxJobsPerAgent',
      '(document)',
      'repository',
    ]);
    expect(problems.find((p) => p.path === 'repository')!.reason).toBe('no repository named "nowhere" is registered');
    expect((await api('GET', '/api/v1/policies/broken')).status).toBe(404);
  });

  withDatabase('refuses a body that is not an object', async () => {
    const { status, body } = await api<ApiErrorBody>('PUT', '/api/v1/policies/listy', '[1, 2]');
    expect(status).toBe(422);
    expect(body.error.details).toEqual([{ path: '(document)', reason: 'must be a JSON object: the policy document' }]);
  });
});

describe('GET and DELETE /api/v1/policies', () => {
  withDatabase('lists policies by name with their next run, and gets one', async () => {
    await api('PUT', '/api/v1/policies/a-disabled', { ...WEB, name: undefined, enabled: false });
    const { status, body } = await api<PolicyView[]>('GET', '/api/v1/policies');
    expect(status).toBe(200);
    expect(body.map((p) => [p.name, p.nextRunAt === null])).toEqual([
      ['a-disabled', true],
      ['web-files', false],
    ]);
    const one = await api<PolicyView>('GET', '/api/v1/policies/web-files');
    expect(one.status).toBe(200);
    expect(one.body).toEqual(body[1]);
  });

  withDatabase('is 404 for an unknown policy, 204 on delete', async () => {
    const missing = await api<ApiErrorBody>('GET', '/api/v1/policies/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    expect((await api('DELETE', '/api/v1/policies/a-disabled')).status).toBe(204);
    expect((await api<ApiErrorBody>('DELETE', '/api/v1/policies/a-disabled')).status).toBe(404);
  });
});
