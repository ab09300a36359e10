import type { JobDetailView, JobProgressView, JobView } from '@coffer/contracts';
import type { JobProgress, JobRecord, JobTransition } from './job.types';

/** A job as the API shows it. Only non-secret columns exist to be shown. */
export function toJobView(job: JobRecord, liveProgress?: JobProgress | null): JobView {
  const progress = liveProgress ?? job.progress;
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    policy: job.policyName,
    agent: job.agentName,
    repository: job.repositoryName,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    trigger: job.trigger,
    late: job.late,
    scheduledFor: job.scheduledFor.toISOString(),
    createdAt: job.createdAt.toISOString(),
    startedAt: job.startedAt?.toISOString() ?? null,
    finishedAt: job.finishedAt?.toISOString() ?? null,
    error: job.error,
    progress: progress && job.status !== 'queued' ? toProgressView(progress) : null,
    snapshotIds: job.snapshotIds,
  };
}

/** A job with its history and log. */
export function toJobDetailView(job: JobRecord, transitions: JobTransition[], liveProgress?: JobProgress | null): JobDetailView {
  const spec = job.spec;
  return {
    ...toJobView(job, liveProgress),
    transitions: transitions.map((transition) => ({
      status: transition.status,
      at: transition.at.toISOString(),
      reason: transition.reason,
    })),
    log: job.log,
    // A database target names its password secret, never a value: the spec holds no secret.
    restore:
      spec.kind === 'restore'
        ? { snapshotId: spec.snapshotId, targetDir: spec.targetDir, include: spec.include, ...(spec.database ? { database: spec.database } : {}) }
        : null,
    verify: spec.kind === 'verify' ? { snapshotId: spec.snapshotId } : null,
  };
}

function toProgressView(progress: JobProgress): JobProgressView {
  return {
    phase: progress.phase,
    filesDone: progress.filesDone,
    filesTotal: progress.filesTotal,
    bytesDone: progress.bytesDone,
    bytesTotal: progress.bytesTotal,
    bytesPerSecond: progress.bytesPerSecond,
    updatedAt: progress.updatedAt.toISOString(),
  };
}
