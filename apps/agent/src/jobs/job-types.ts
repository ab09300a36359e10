import type { JobProgressFigures } from '@coffer/contracts';
import type { Hooks } from '@coffer/sources';

/*
 * The agent's own view of jobs, mapped from and to the wire types at the edge
 * (connection/job-messages.ts). Nothing here depends on gRPC.
 */

/** What a job does. */
export type JobKind = 'backup' | 'restore' | 'forget' | 'prune' | 'check' | 'verify';

/** How a job ended. */
export type JobOutcome = 'succeeded' | 'failed' | 'cancelled' | 'timed_out';

/** Where the repository is and how to open it. SECRET: kept in memory only, never logged. */
export interface RepositoryAccess {
  name: string;
  url: string;
  password: string;
  /** Storage credentials, as environment variable names and values. */
  environment: Record<string, string>;
}

/**
 * Where a database source's password comes from: `password` (SECRET, from the controller's
 * secret store, in memory only and never logged) or `passwordFile` on this host; '' = none.
 */
export interface DatabasePassword {
  passwordFile: string;
  password: string;
}

/** A database server a backup job dumps. URLs never carry a password. */
export type DatabaseBackupSource =
  | ({ kind: 'postgres'; url: string; databases: string[]; schemas: string[]; globals: boolean; globalsOnly: boolean } & DatabasePassword)
  | ({ kind: 'mysql'; url: string; databases: string[] } & DatabasePassword)
  | ({ kind: 'redis'; url: string } & DatabasePassword);

/** One thing a backup job backs up (one snapshot each). */
export type BackupSource =
  | { kind: 'files'; paths: string[]; include: string[]; exclude: string[]; oneFileSystem: boolean }
  | { kind: 'command'; command: string; filename: string }
  | DatabaseBackupSource;

/** A database a restore job writes into. `password` is SECRET ('' = none). */
export type DatabaseRestoreTarget =
  | { kind: 'postgres'; url: string; password: string; clean: boolean; schemas: string[]; jobs: number; sourceDatabase: string; globals: boolean; noOwner: boolean }
  | { kind: 'mysql'; url: string; password: string; clean: boolean; sourceDatabase: string }
  | { kind: 'redis'; dir: string; clean: boolean };

/** Retention rules; 0 / '' = rule not used. */
export interface RetentionSpec {
  keepLast: number;
  keepHourly: number;
  keepDaily: number;
  keepWeekly: number;
  keepMonthly: number;
  keepYearly: number;
  keepWithin: string;
}

/** The kind-specific part of a job. */
export type JobSpec =
  | { kind: 'backup'; policyName: string; sources: BackupSource[]; tags: string[]; hooks: Hooks }
  | { kind: 'restore'; snapshotId: string; targetDir: string; include: string[]; database?: DatabaseRestoreTarget; hooks: Hooks }
  | { kind: 'verify'; snapshotId: string }
  | { kind: 'forget'; retention: RetentionSpec; tag: string; host: string }
  | { kind: 'prune' }
  | { kind: 'check'; readData: boolean; readDataSubsetPercent: number };

/** A job as the controller sent it. Holds secrets (repository). */
export interface JobRequest {
  jobId: string;
  attempt: number;
  /** 0 = no limit. */
  timeoutSeconds: number;
  repository: RepositoryAccess;
  spec: JobSpec;
}

/** A snapshot a backup wrote, as the catalog records it. */
export interface SnapshotSummary {
  id: string;
  timeUnixMs: number;
  hostname: string;
  sourceKind: string;
  paths: string[];
  tags: string[];
  parentId: string;
  files: number;
  bytesRead: number;
  bytesNew: number;
  bytesStored: number;
  durationSeconds: number;
}

/** What a job did, without secrets: this is what the ledger stores and JobFinished carries. */
export interface JobResult {
  jobId: string;
  kind: JobKind;
  outcome: JobOutcome;
  /** For people; empty when the job succeeded. */
  errorMessage: string;
  /** Oldest first, bounded. */
  log: string[];
  startedAtMs: number;
  finishedAtMs: number;
  snapshots: SnapshotSummary[];
  forgottenSnapshotIds: string[];
  restoredFiles: number;
  restoredBytes: number;
}

/** How far a running job has got. */
export interface JobProgressReport extends JobProgressFigures {
  jobId: string;
}

/** An empty result, to fill in. */
export function emptyResult(jobId: string, kind: JobKind, startedAtMs: number): JobResult {
  return {
    jobId,
    kind,
    outcome: 'succeeded',
    errorMessage: '',
    log: [],
    startedAtMs,
    finishedAtMs: startedAtMs,
    snapshots: [],
    forgottenSnapshotIds: [],
    restoredFiles: 0,
    restoredBytes: 0,
  };
}
