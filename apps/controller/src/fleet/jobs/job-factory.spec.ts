import { policyDocumentSchema } from '@coffer/contracts';
import type { StoredPolicy } from '../../shared/fleet-ports';
import { backupJob, forgetJob, retryDelaySeconds, retryJob } from './job-factory';
import type { JobRecord } from './job.types';

const NOW = new Date('2025-04-01T12:00:00Z');

function policy(extra: Record<string, unknown> = {}): StoredPolicy {
  const document = policyDocumentSchema.parse({
    name: 'db',
    selector: {},
    repository: 'main',
    sources: [{ command: { run: 'pg_dumpall', filename: 'all.sql' } }],
    retries: { max: 2, backoff: '5m' },
    timeout: '2h',
    tags: ['env=prod'],
    ...extra,
  });
  return { id: '22222222-2222-4222-8222-222222222222', name: 'db', document, createdAt: NOW, updatedAt: NOW };
}

function asRecord(draft: ReturnType<typeof backupJob>): JobRecord {
  return {
    ...draft,
    agentName: 'db-1',
    startDeadline: NOW,
    progress: null,
    log: [],
    error: null,
    snapshotIds: [],
    result: null,
    cancelRequestedAt: null,
    createdAt: NOW,
    dispatchedAt: null,
    startedAt: null,
    finishedAt: null,
    status: 'failed',
  };
}

describe('job factory', () => {
  it('copies the policy’s rules into a backup job and keeps secrets out of the spec', () => {
    const draft = backupJob(policy(), 'agent-1', { trigger: 'manual', scheduledFor: NOW });
    expect(draft).toMatchObject({ kind: 'backup', status: 'queued', trigger: 'manual', attempt: 1, maxAttempts: 3, timeoutSeconds: 7200, retryBackoffSeconds: 300, maxJobsPerAgent: 1, repositoryName: 'main' });
    expect(draft.spec).toEqual({ kind: 'backup', sources: [{ command: { run: 'pg_dumpall', filename: 'all.sql' } }], tags: ['env=prod'] });
  });

  it('retries with exponential backoff until attempts run out', () => {
    expect([1, 2, 3].map((attempt) => retryDelaySeconds(300, attempt))).toEqual([300, 600, 1200]);
    const first = asRecord(backupJob(policy(), 'agent-1', { trigger: 'schedule', scheduledFor: NOW, scheduleKey: '0:x:UTC' }));
    const second = retryJob(first, NOW, 'disk full')!;
    expect(second).toMatchObject({ trigger: 'retry', attempt: 2, maxAttempts: 3, retryOf: first.id, scheduleKey: null, reason: 'retry 2 of 3 after: disk full' });
    expect(second.scheduledFor.toISOString()).toBe('2025-04-01T12:05:00.000Z');
    const third = retryJob(asRecord(second), NOW, 'disk full')!;
    expect(third.attempt).toBe(3);
    expect(third.scheduledFor.toISOString()).toBe('2025-04-01T12:10:00.000Z');
    expect(retryJob(asRecord(third), NOW, 'disk full')).toBeUndefined();
  });

  it('makes a forget job for the agent’s snapshots of the policy when it has retention', () => {
    expect(forgetJob(policy(), 'agent-1', 'db-1', NOW)).toBeUndefined();
    const forget = forgetJob(policy({ retention: { keepDaily: 7 } }), 'agent-1', 'db-1', NOW)!;
    expect(forget).toMatchObject({ kind: 'forget', trigger: 'retention', agentId: 'agent-1', spec: { kind: 'forget', retention: { keepDaily: 7 }, tag: 'policy=db', host: 'db-1' } });
  });
});
