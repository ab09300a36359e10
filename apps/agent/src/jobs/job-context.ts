import type { SnapshotSummary } from './job-types';

/** A progress update from inside a job; totals are 0 while unknown. */
export interface ProgressUpdate {
  phase: string;
  filesDone?: number;
  filesTotal?: number;
  bytesDone?: number;
  bytesTotal?: number;
}

/** What a job has produced so far; reported even when the job fails or is stopped. */
export interface WorkProducts {
  snapshots: SnapshotSummary[];
  forgottenSnapshotIds: string[];
  restoredFiles: number;
  restoredBytes: number;
}

/** What a job's code gets from whoever runs it. */
export interface JobContext {
  /** Fires when the job must stop (cancel, timeout, agent shutdown). */
  readonly signal: AbortSignal;
  /** The agent's name in the fleet: the host recorded in its snapshots. */
  readonly agentName: string;
  /** Adds a line to the job's log (warnings, skipped files, command stderr). No secrets. */
  log(line: string): void;
  /** Reports progress; the runner throttles what it forwards. */
  progress(update: ProgressUpdate): void;
  /**
   * Registers the process group of a process the job started (a backup command), so that it
   * is killed when the job ends or is killed, whatever the command left running.
   */
  adoptProcessGroup(pgid: number): void;
  readonly products: WorkProducts;
}

/** Products with nothing in them. */
export function emptyProducts(): WorkProducts {
  return { snapshots: [], forgottenSnapshotIds: [], restoredFiles: 0, restoredBytes: 0 };
}
