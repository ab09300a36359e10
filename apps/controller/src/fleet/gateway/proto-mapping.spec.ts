import { policyDocumentSchema } from '@coffer/contracts';
import { backupJob, forgetJob, restoreJob } from '../jobs/job-factory';
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
