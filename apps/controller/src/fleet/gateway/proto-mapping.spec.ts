import { policyDocumentSchema } from '@coffer/contracts';
import { backupJob, forgetJob, restoreJob, secretNamesOf, verifyJob } from '../jobs/job-factory';
import type { JobRecord } from '../jobs/job.types';
import { toControllerMessage, toJobFinishedReport } from './proto-mapping';

const NOW = new Date('2025-04-01T12:00:00Z');
const ACCESS = { id: 'r1', name: 'main', url: 'file:///srv/backup', password: 'hunter2', environment: { AWS_ACCESS_KEY_ID: 'AKIA' } };

function record(draft: ReturnType<typeof backupJob>): JobRecord {
  return { ...draft, status: 'dispatched', agentName: 'web-1', startDeadline: NOW, progress: null, log: [], error: null, snapshotIds: [], result: null, cancelRequestedAt: null, createdAt: NOW, dispatchedAt: NOW, startedAt: null, finishedAt: null };
}

const document = policyDocumentSchema.parse({
  name: 'web',
  selector: {},
  repository: 'main',
  sources: [{ files: { paths: ['/var/www'], exclude: ['*.tmp'] } }, { command: { run: 'pg_dumpall', filename: 'all.sql' } }],
  retention: { keepLast: 3, keepWithin: '7d' },
  tags: ['app=web'],
});
const policy = { id: 'p1', name: 'web', document, createdAt: NOW, updatedAt: NOW };

describe('proto mapping', () => {
  it('puts the repository secrets into RunJob, and nowhere else', () => {
    const job = record(backupJob(policy, 'a1', { trigger: 'manual', scheduledFor: NOW }));
    const message = toControllerMessage({ type: 'runJob', job, access: ACCESS });
    expect(message.runJob).toMatchObject({
      jobId: job.id,
      kind: 'JOB_KIND_BACKUP',
      repository: { name: 'main', url: 'file:///srv/backup', password: 'hunter2', environment: { AWS_ACCESS_KEY_ID: 'AKIA' } },
      timeoutSeconds: 6 * 3600,
      attempt: 1,
      backup: {
        policyName: 'web',
        tags: ['app=web'],
        sources: [
          { files: { paths: ['/var/www'], include: [], exclude: ['*.tmp'], oneFileSystem: false } },
          { command: { command: 'pg_dumpall', filename: 'all.sql' } },
        ],
      },
    });
    expect(JSON.stringify(job)).not.toContain('hunter2');
  });

  it('maps forget and restore specs', () => {
    const forget = record(forgetJob(policy, 'a1', 'web-1', NOW)!);
    expect(toControllerMessage({ type: 'runJob', job: forget, access: ACCESS }).runJob).toMatchObject({
      kind: 'JOB_KIND_FORGET',
      forget: { tag: 'policy=web', host: 'web-1', retention: { keepLast: 3, keepDaily: 0, keepWithin: '7d' } },
    });
    const restore = record(restoreJob({ agentId: 'a2', repositoryName: 'main', snapshotId: 'abc', targetDir: '/tmp/r', include: ['*.sql'], now: NOW }));
    expect(toControllerMessage({ type: 'runJob', job: restore, access: ACCESS }).runJob).toMatchObject({
      kind: 'JOB_KIND_RESTORE',
      restore: { snapshotId: 'abc', targetDir: '/tmp/r', include: ['*.sql'] },
    });
  });

  it('maps database sources and hooks; a named secret’s value goes into RunJob only', () => {
    const dbDocument = policyDocumentSchema.parse({
      name: 'db',
      selector: {},
      repository: 'main',
      sources: [
        { postgres: { url: 'postgres://root@h:5432/app', schemas: ['public'], passwordSecret: 'pg-pass' } },
        { mysql: { url: 'mysql://root@h/shop', passwordFile: '/etc/my.pass' } },
        { redis: { url: 'redis://h:6379', passwordSecret: 'pg-pass' } },
      ],
      hooks: { before: [{ run: 'echo hi', timeout: '5m' }], after: [{ run: 'echo bye', onFailure: 'continue' }] },
    });
    const dbPolicy = { id: 'p2', name: 'db', document: dbDocument, createdAt: NOW, updatedAt: NOW };
    const job = record(backupJob(dbPolicy, 'a1', { trigger: 'manual', scheduledFor: NOW }));
    expect(secretNamesOf(job.spec)).toEqual(['pg-pass']);
    const message = toControllerMessage({ type: 'runJob', job, access: ACCESS, secrets: { 'pg-pass': 's3cret' } });
    expect(message.runJob?.backup).toEqual({
      policyName: 'db',
      tags: [],
      sources: [
        { postgres: { url: 'postgres://root@h:5432/app', databases: [], schemas: ['public'], globals: false, globalsOnly: false, passwordFile: '', password: 's3cret' } },
        { mysql: { url: 'mysql://root@h/shop', databases: [], passwordFile: '/etc/my.pass', password: '' } },
        { redis: { url: 'redis://h:6379', passwordFile: '', password: 's3cret' } },
      ],
      hooks: {
        before: [{ run: 'echo hi', timeoutSeconds: 300, onFailure: 'HOOK_FAILURE_MODE_FAIL' }],
        after: [{ run: 'echo bye', timeoutSeconds: 600, onFailure: 'HOOK_FAILURE_MODE_CONTINUE' }],
      },
    });
    expect(JSON.stringify(job)).not.toContain('s3cret');
  });

  it('maps database restores and verify jobs', () => {
    const restore = record(
      restoreJob({
        agentId: 'a2',
        repositoryName: 'main',
        snapshotId: 'abc',
        targetDir: '',
        include: [],
        database: { postgres: { url: 'postgres://root@h/copy', clean: true, jobs: 2, passwordSecret: 'pg-admin' } },
        hooks: { before: [], after: [{ run: 'echo done', timeout: '1m', onFailure: 'fail' }] },
        now: NOW,
      }),
    );
    expect(secretNamesOf(restore.spec)).toEqual(['pg-admin']);
    expect(toControllerMessage({ type: 'runJob', job: restore, access: ACCESS, secrets: { 'pg-admin': 'pw' } }).runJob?.restore).toEqual({
      snapshotId: 'abc',
      targetDir: '',
      include: [],
      database: { postgres: { url: 'postgres://root@h/copy', password: 'pw', clean: true, schemas: [], jobs: 2, sourceDatabase: '', globals: false, noOwner: false } },
      hooks: { before: [], after: [{ run: 'echo done', timeoutSeconds: 60, onFailure: 'HOOK_FAILURE_MODE_FAIL' }] },
    });
    const verify = record(verifyJob({ agentId: 'a2', repositoryName: 'main', snapshotId: 'abc', now: NOW }));
    expect(verify).toMatchObject({ kind: 'verify', trigger: 'verify' });
    expect(toControllerMessage({ type: 'runJob', job: verify, access: ACCESS }).runJob).toMatchObject({ kind: 'JOB_KIND_VERIFY', verify: { snapshotId: 'abc' } });
  });

  it('reads a JobFinished; an unspecified outcome is a failure', () => {
    const base = {
      jobId: 'j1',
      errorMessage: '',
      log: ['a'],
      startedAtUnixMs: 1_700_000_000_000,
      finishedAtUnixMs: 0,
      snapshots: [],
      forgottenSnapshotIds: [],
      restoredFiles: 0,
      restoredBytes: 0,
    };
    expect(toJobFinishedReport({ ...base, outcome: 'JOB_OUTCOME_SUCCEEDED' })).toMatchObject({ outcome: 'succeeded', startedAt: new Date(1_700_000_000_000), finishedAt: null });
    const unspecified = toJobFinishedReport({ ...base, outcome: 'JOB_OUTCOME_UNSPECIFIED' });
    expect(unspecified.outcome).toBe('failed');
    expect(unspecified.errorMessage).toMatch(/no outcome/);
  });
});
