import type { JobKind, JobProgressFigures, JobStatus, PolicyHooks, PolicyRetention, PolicySource, RestoreDatabaseTarget } from '@coffer/contracts';
import type { SnapshotFacts } from '../../shared/fleet-ports';

export type { JobKind, JobStatus };

/** What made a job. */
export type JobTrigger = 'schedule' | 'manual' | 'retry' | 'retention' | 'prune' | 'restore' | 'verify';

/**
 * What a job does, without secrets: stored in jobs.spec and shown through the API. The
 * repository's URL, password and credentials are added only to the RunJob message, at
 * dispatch time, and so are the values of secrets that sources and targets name
 * (`passwordSecret`): the spec holds their names only.
 */
export type JobSpec =
  | { kind: 'backup'; sources: PolicySource[]; tags: string[]; hooks?: PolicyHooks }
  | { kind: 'restore'; snapshotId: string; targetDir: string; include: string[]; database?: RestoreDatabaseTarget; hooks?: PolicyHooks }
  | { kind: 'verify'; snapshotId: string }
  | { kind: 'forget'; retention: PolicyRetention; tag: string; host: string }
  | { kind: 'prune' }
  | { kind: 'check'; readData: boolean; readDataSubsetPercent: number };

/** Progress of a running job as last reported. */
export interface JobProgress extends JobProgressFigures {
  updatedAt: Date;
}

/** Outcome details that have no column of their own. */
export interface JobResult {
  restoredFiles?: number;
  restoredBytes?: number;
  forgottenSnapshotIds?: string[];
}

/** A job as stored. */
export interface JobRecord {
  id: string;
  kind: JobKind;
  status: JobStatus;
  trigger: JobTrigger;
  policyId: string | null;
  policyName: string | null;
  agentId: string;
  agentName: string;
  repositoryName: string;
  scheduleKey: string | null;
  scheduledFor: Date;
  startDeadline: Date;
  startDeadlineSeconds: number;
  late: boolean;
  /** 0 = none. */
  timeoutSeconds: number;
  attempt: number;
  maxAttempts: number;
  retryBackoffSeconds: number;
  /** Jobs of the same policy allowed at once on the agent; null = no limit. */
  maxJobsPerAgent: number | null;
  retryOf: string | null;
  spec: JobSpec;
  progress: JobProgress | null;
  log: string[];
  error: string | null;
  snapshotIds: string[];
  result: JobResult | null;
  cancelRequestedAt: Date | null;
  createdAt: Date;
  dispatchedAt: Date | null;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** A stored status change. */
export interface JobTransition {
  status: JobStatus;
  at: Date;
  reason: string | null;
}

/** A job about to be created (queued, or recorded straight away as missed): a record's own fields, before any event. */
export type JobDraft = Pick<
  JobRecord,
  | 'id'
  | 'kind'
  | 'trigger'
  | 'policyId'
  | 'policyName'
  | 'agentId'
  | 'repositoryName'
  | 'scheduleKey'
  | 'scheduledFor'
  | 'startDeadlineSeconds'
  | 'late'
  | 'timeoutSeconds'
  | 'attempt'
  | 'maxAttempts'
  | 'retryBackoffSeconds'
  | 'maxJobsPerAgent'
  | 'retryOf'
  | 'spec'
> & {
  status: 'queued' | 'missed';
  /** Stored with the first transition, e.g. "retry 2 of 3". */
  reason: string | null;
};

/** How an agent says a job ended. */
export type ReportedOutcome = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

/** A snapshot a backup job reported. */
export type ReportedSnapshot = SnapshotFacts;

/** An agent's JobFinished, mapped from the protocol. */
export interface JobFinishedReport {
  jobId: string;
  outcome: ReportedOutcome;
  errorMessage: string;
  log: string[];
  startedAt: Date | null;
  finishedAt: Date | null;
  snapshots: ReportedSnapshot[];
  forgottenSnapshotIds: string[];
  restoredFiles: number;
  restoredBytes: number;
}

/** An agent's JobProgress, mapped from the protocol. */
export interface JobProgressReport extends JobProgressFigures {
  jobId: string;
}
