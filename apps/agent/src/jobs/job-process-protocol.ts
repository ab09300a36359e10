import type { AbortReason } from './job-abort';
import type { WorkProducts } from './job-context';
import type { JobProgressReport, JobRequest } from './job-types';

/*
 * Messages between the agent and a job process (one child process per job, see
 * job-launcher.ts) over the Node IPC channel. The job, with its repository password,
 * travels only here: never in argv or the environment, where `ps` and /proc would show it.
 */

/** Agent → job process. */
export type ToJobProcess =
  | { type: 'start'; request: JobRequest; agentName: string }
  /** Stop the job as soon as it safely can. */
  | { type: 'abort'; reason: AbortReason };

/** How the job's own code ended. */
export interface WorkOutcome {
  ok: boolean;
  /** For people; empty when ok. */
  errorMessage: string;
  /** True when it ended because it was asked to stop. */
  aborted: boolean;
  products: WorkProducts;
}

/** Job process → agent. */
export type FromJobProcess =
  | { type: 'progress'; progress: Omit<JobProgressReport, 'jobId'> }
  | { type: 'log'; line: string }
  /** The job started a process group of its own (a backup command): kill it with the job. */
  | { type: 'process-group'; pgid: number }
  /** Last message; the process exits right after it. */
  | { type: 'done'; outcome: WorkOutcome };
