import { randomUUID } from 'node:crypto';
import { parseDurationSeconds, PolicyHooks, RestoreDatabaseTarget } from '@coffer/contracts';
import type { StoredPolicy } from '../../shared/fleet-ports';
import type { JobDraft, JobRecord, JobSpec, JobTrigger } from './job.types';

/*
 * Pure constructors for new jobs. Everything a job needs later (timeout, retries, the
 * per-agent limit, the start deadline) is copied from the policy into the job, so a job
 * keeps the rules it was created under even if the policy changes or is deleted.
 */

/** Restores get a day to finish and an hour to start unless told otherwise. */
export const RESTORE_TIMEOUT_SECONDS = 24 * 3600;
export const DEFAULT_START_DEADLINE_SECONDS = 3600;

/** Options of a backup or prune job created for a policy. */
export interface PolicyJobOptions {
  trigger: JobTrigger;
  scheduledFor: Date;
  scheduleKey?: string | null;
  late?: boolean;
  status?: 'queued' | 'missed';
  reason?: string | null;
}

function policyRules(policy: StoredPolicy) {
  const document = policy.document;
  return {
    timeoutSeconds: parseDurationSeconds(document.timeout) ?? 0,
    startDeadlineSeconds: parseDurationSeconds(document.startDeadline) ?? DEFAULT_START_DEADLINE_SECONDS,
    maxAttempts: 1 + (document.retries?.max ?? 0),
    retryBackoffSeconds: parseDurationSeconds(document.retries?.backoff ?? '5m') ?? 300,
    maxJobsPerAgent: document.maxJobsPerAgent ?? 1,
  };
}

/** A backup of `policy` on one agent. */
export function backupJob(policy: StoredPolicy, agentId: string, options: PolicyJobOptions): JobDraft {
  return {
    id: randomUUID(),
    kind: 'backup',
    status: options.status ?? 'queued',
    trigger: options.trigger,
    policyId: policy.id,
    policyName: policy.name,
    agentId,
    repositoryName: policy.document.repository,
    scheduleKey: options.scheduleKey ?? null,
    scheduledFor: options.scheduledFor,
    late: options.late ?? false,
    attempt: 1,
    retryOf: null,
    spec: { kind: 'backup', sources: policy.document.sources, tags: policy.document.tags ?? [], ...(policy.document.hooks ? { hooks: policy.document.hooks } : {}) },
    reason: options.reason ?? null,
    ...policyRules(policy),
  };
}

/** A prune of the policy's repository, run by one agent. Not retried: the next schedule will do. */
export function pruneJob(policy: StoredPolicy, agentId: string, options: PolicyJobOptions): JobDraft {
  return {
    ...backupJob(policy, agentId, options),
    kind: 'prune',
    spec: { kind: 'prune' },
    maxAttempts: 1,
    maxJobsPerAgent: null,
  };
}

/**
 * Retention after a successful backup: forget this agent's snapshots of the policy that the
 * rules do not keep. Agents record their fleet name as the snapshot host.
 */
export function forgetJob(policy: StoredPolicy, agentId: string, agentName: string, now: Date): JobDraft | undefined {
  const retention = policy.document.retention;
  if (!retention) return undefined;
  return {
    ...backupJob(policy, agentId, { trigger: 'retention', scheduledFor: now }),
    kind: 'forget',
    spec: { kind: 'forget', retention, tag: `policy=${policy.name}`, host: agentName },
  };
}

/** A restore of one snapshot on one agent. */
export function restoreJob(input: {
  agentId: string;
  repositoryName: string;
  snapshotId: string;
  targetDir: string;
  include: string[];
  database?: RestoreDatabaseTarget;
  hooks?: PolicyHooks;
  now: Date;
}): JobDraft {
  return {
    id: randomUUID(),
    kind: 'restore',
    status: 'queued',
    trigger: 'restore',
    policyId: null,
    policyName: null,
    agentId: input.agentId,
    repositoryName: input.repositoryName,
    scheduleKey: null,
    scheduledFor: input.now,
    startDeadlineSeconds: DEFAULT_START_DEADLINE_SECONDS,
    late: false,
    timeoutSeconds: RESTORE_TIMEOUT_SECONDS,
    attempt: 1,
    maxAttempts: 1,
    retryBackoffSeconds: 0,
    maxJobsPerAgent: null,
    retryOf: null,
    spec: {
      kind: 'restore',
      snapshotId: input.snapshotId,
      targetDir: input.targetDir,
      include: input.include,
      ...(input.database ? { database: input.database } : {}),
      ...(input.hooks ? { hooks: input.hooks } : {}),
    },
    reason: null,
  };
}

/** Verify jobs get an hour, like a restore's start deadline. */
export const VERIFY_TIMEOUT_SECONDS = 6 * 3600;

/** A verification of one database snapshot on one agent. */
export function verifyJob(input: { agentId: string; repositoryName: string; snapshotId: string; now: Date }): JobDraft {
  return {
    ...restoreJob({ ...input, targetDir: '', include: [] }),
    kind: 'verify',
    trigger: 'verify',
    timeoutSeconds: VERIFY_TIMEOUT_SECONDS,
    spec: { kind: 'verify', snapshotId: input.snapshotId },
  };
}

/** The secrets a job's spec names (database passwords), each once, in order. */
export function secretNamesOf(spec: JobSpec): string[] {
  const names: string[] = [];
  if (spec.kind === 'backup') {
    for (const source of spec.sources) {
      const secret = 'postgres' in source ? source.postgres.passwordSecret : 'mysql' in source ? source.mysql.passwordSecret : 'redis' in source ? source.redis.passwordSecret : undefined;
      if (secret !== undefined) names.push(secret);
    }
  } else if (spec.kind === 'restore' && spec.database) {
    const target = spec.database;
    const secret = 'postgres' in target ? target.postgres.passwordSecret : 'mysql' in target ? target.mysql.passwordSecret : undefined;
    if (secret !== undefined) names.push(secret);
  }
  return [...new Set(names)];
}

/** Seconds to wait before attempt `attempt + 1`: backoff × 2^(attempt − 1), capped at a day. */
export function retryDelaySeconds(backoffSeconds: number, attempt: number): number {
  return Math.min(backoffSeconds * 2 ** Math.max(0, attempt - 1), 86_400);
}

/** The next attempt of a failed or timed-out job, or undefined when none are left. */
export function retryJob(job: JobRecord, now: Date, why: string): JobDraft | undefined {
  if (job.attempt >= job.maxAttempts) return undefined;
  const attempt = job.attempt + 1;
  return {
    id: randomUUID(),
    kind: job.kind,
    status: 'queued',
    trigger: 'retry',
    policyId: job.policyId,
    policyName: job.policyName,
    agentId: job.agentId,
    repositoryName: job.repositoryName,
    scheduleKey: null,
    scheduledFor: new Date(now.getTime() + retryDelaySeconds(job.retryBackoffSeconds, job.attempt) * 1000),
    startDeadlineSeconds: job.startDeadlineSeconds,
    late: false,
    timeoutSeconds: job.timeoutSeconds,
    attempt,
    maxAttempts: job.maxAttempts,
    retryBackoffSeconds: job.retryBackoffSeconds,
    maxJobsPerAgent: job.maxJobsPerAgent,
    retryOf: job.id,
    spec: job.spec,
    reason: `retry ${attempt} of ${job.maxAttempts} after: ${why}`,
  };
}
