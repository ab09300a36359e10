import type { agentV1 } from '@coffer/contracts';
import { jobFinishedMessage, toJobRequest } from './wire-mapping';
import { emptyResult } from '../jobs/job-types';

function runJob(overrides: Partial<agentV1.RunJob__Output>): agentV1.RunJob__Output {
  return {
    jobId: 'j1',
    kind: 'JOB_KIND_BACKUP',
    repository: { name: 'r', url: 'file:///srv/repo', password: 'pw', environment: { AWS_ACCESS_KEY_ID: 'k' } },
    timeoutSeconds: 60,
    attempt: 2,
    ...overrides,
  };
}

describe('toJobRequest', () => {
  test('maps a backup job with both source kinds', () => {
    const mapped = toJobRequest(
      runJob({
        spec: 'backup',
        backup: {
          policyName: 'nightly',
          tags: ['x'],
          sources: [
            { kind: 'files', files: { paths: ['/srv'], include: ['*.txt'], exclude: ['tmp/'], oneFileSystem: true } },
            { kind: 'command', command: { command: 'pg_dump db', filename: 'db.sql' } },
          ],
          hooks: null,
        },
      }),
    );
    expect(mapped).toEqual({
      request: {
        jobId: 'j1',
        attempt: 2,
        timeoutSeconds: 60,
        repository: { name: 'r', url: 'file:///srv/repo', password: 'pw', environment: { AWS_ACCESS_KEY_ID: 'k' } },
        spec: {
          kind: 'backup',
          policyName: 'nightly',
          tags: ['x'],
          sources: [
            { kind: 'files', paths: ['/srv'], include: ['*.txt'], exclude: ['tmp/'], oneFileSystem: true },
            { kind: 'command', command: 'pg_dump db', filename: 'db.sql' },
          ],
          hooks: { before: [], after: [] },
        },
      },
    });
  });

  test('maps database sources, their secrets and hooks', () => {
    const mapped = toJobRequest(
      runJob({
        spec: 'backup',
        backup: {
          policyName: 'db',
          tags: [],
          sources: [
            { kind: 'postgres', postgres: { url: 'postgres://root@h:5432/app', databases: ['b'], schemas: ['public'], globals: true, globalsOnly: false, passwordFile: '', password: 's3cret' } },
            { kind: 'mysql', mysql: { url: 'mysql://root@h/shop', databases: [], passwordFile: '/etc/pw', password: '' } },
            { kind: 'redis', redis: { url: 'redis://h:6379', passwordFile: '', password: '' } },
          ],
          hooks: {
            before: [{ run: 'echo hi', timeoutSeconds: 0, onFailure: 'HOOK_FAILURE_MODE_UNSPECIFIED' }],
            after: [{ run: 'echo bye', timeoutSeconds: 30, onFailure: 'HOOK_FAILURE_MODE_CONTINUE' }],
          },
        },
      }),
    );
    expect('request' in mapped && mapped.request.spec).toEqual({
      kind: 'backup',
      policyName: 'db',
      tags: [],
      sources: [
        { kind: 'postgres', url: 'postgres://root@h:5432/app', databases: ['b'], schemas: ['public'], globals: true, globalsOnly: false, passwordFile: '', password: 's3cret' },
        { kind: 'mysql', url: 'mysql://root@h/shop', databases: [], passwordFile: '/etc/pw', password: '' },
        { kind: 'redis', url: 'redis://h:6379', passwordFile: '', password: '' },
      ],
      hooks: {
        before: [{ run: 'echo hi', timeoutSeconds: 600, onFailure: 'fail' }],
        after: [{ run: 'echo bye', timeoutSeconds: 30, onFailure: 'continue' }],
      },
    });
  });

  test('maps a database restore and a verify job', () => {
    const restore = toJobRequest(
      runJob({
        kind: 'JOB_KIND_RESTORE',
        spec: 'restore',
        restore: {
          snapshotId: 'abc',
          targetDir: '',
          include: [],
          database: { kind: 'postgres', postgres: { url: 'postgres://root@h/copy', password: '', clean: true, schemas: ['s'], jobs: 2, sourceDatabase: 'app', globals: false, noOwner: true } },
          hooks: null,
        },
      }),
    );
    expect('request' in restore && restore.request.spec).toEqual({
      kind: 'restore',
      snapshotId: 'abc',
      targetDir: '',
      include: [],
      database: { kind: 'postgres', url: 'postgres://root@h/copy', password: '', clean: true, schemas: ['s'], jobs: 2, sourceDatabase: 'app', globals: false, noOwner: true },
      hooks: { before: [], after: [] },
    });
    const verify = toJobRequest(runJob({ kind: 'JOB_KIND_VERIFY', spec: 'verify', verify: { snapshotId: 'abc' } }));
    expect('request' in verify && verify.request.spec).toEqual({ kind: 'verify', snapshotId: 'abc' });
  });

  test('maps forget, prune, check and restore specs', () => {
    const forget = toJobRequest(runJob({ kind: 'JOB_KIND_FORGET', spec: 'forget', forget: { tag: 'policy=p', host: 'h', retention: { keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepWithin: '30d' } } }));
    expect('request' in forget && forget.request.spec).toEqual({ kind: 'forget', tag: 'policy=p', host: 'h', retention: { keepLast: 3, keepHourly: 0, keepDaily: 7, keepWeekly: 0, keepMonthly: 0, keepYearly: 0, keepWithin: '30d' } });
    const prune = toJobRequest(runJob({ kind: 'JOB_KIND_PRUNE', spec: 'prune', prune: {} }));
    expect('request' in prune && prune.request.spec).toEqual({ kind: 'prune' });
    const check = toJobRequest(runJob({ kind: 'JOB_KIND_CHECK', spec: 'check', check: { readData: true, readDataSubsetPercent: 10 } }));
    expect('request' in check && check.request.spec).toEqual({ kind: 'check', readData: true, readDataSubsetPercent: 10 });
    const restore = toJobRequest(runJob({ kind: 'JOB_KIND_RESTORE', spec: 'restore', restore: { snapshotId: 'abc', targetDir: '/t', include: [], database: null, hooks: null } }));
    expect('request' in restore && restore.request.spec).toEqual({ kind: 'restore', snapshotId: 'abc', targetDir: '/t', include: [], hooks: { before: [], after: [] } });
  });

  test.each([
    ['an unknown kind', runJob({ kind: 'JOB_KIND_UNSPECIFIED' }), 'this agent cannot run jobs of kind JOB_KIND_UNSPECIFIED'],
    ['no repository', runJob({ repository: null, spec: 'prune', kind: 'JOB_KIND_PRUNE', prune: {} }), 'the job names no repository'],
    ['a spec of another kind', runJob({ spec: 'restore', restore: { snapshotId: 'a', targetDir: '/t', include: [], database: null, hooks: null } }), 'the backup job carries a restore spec'],
    ['no spec', runJob({}), 'the backup job carries no spec'],
    ['a source of a newer kind', runJob({ spec: 'backup', backup: { policyName: 'p', tags: [], sources: [{}], hooks: null } }), 'a source of the backup job is of a kind this agent does not know (none)'],
  ])('refuses %s', (_what, wire, problem) => {
    expect(toJobRequest(wire)).toMatchObject({ jobId: 'j1', problem });
  });
});

describe('jobFinishedMessage', () => {
  test('maps outcomes to the wire enum', () => {
    const result = { ...emptyResult('j1', 'backup', 1), outcome: 'timed_out' as const, finishedAtMs: 2 };
    expect(jobFinishedMessage(result).jobFinished).toMatchObject({ jobId: 'j1', outcome: 'JOB_OUTCOME_TIMED_OUT', startedAtUnixMs: 1, finishedAtUnixMs: 2 });
  });
});
