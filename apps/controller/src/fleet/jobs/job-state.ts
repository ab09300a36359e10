import type { JobStatus } from '@coffer/contracts';
import type { ReportedOutcome } from './job.types';

/*
 * The job state machine:
 *
 *   queued ──▶ dispatched ──▶ running ──▶ succeeded | failed | cancelled | timed_out
 *     │            │
 *     │            └──▶ succeeded | failed | cancelled | timed_out   (result before/without JobAccepted)
 *     └──▶ cancelled | failed                                         (cancelled by a person; agent offline)
 *
 *   missed: created terminal, for a scheduled run the controller was down for.
 *
 * Terminal states never change again: a late or repeated result for a terminal job is
 * acknowledged and dropped.
 */

const TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = {
  queued: ['dispatched', 'cancelled', 'failed'],
  dispatched: ['running', 'succeeded', 'failed', 'cancelled', 'timed_out'],
  running: ['succeeded', 'failed', 'cancelled', 'timed_out'],
  succeeded: [],
  failed: [],
  cancelled: [],
  timed_out: [],
  missed: [],
};

/** States a job may be created in. */
export const INITIAL_STATUSES: readonly JobStatus[] = ['queued', 'missed'];

/** States in which the agent holds the job. */
export const ACTIVE_STATUSES: readonly JobStatus[] = ['dispatched', 'running'];

/** A transition the state machine does not allow. */
export class IllegalJobTransitionError extends Error {
  constructor(
    readonly from: JobStatus,
    readonly to: JobStatus,
  ) {
    super(`a job cannot go from ${from} to ${to}`);
    this.name = 'IllegalJobTransitionError';
  }
}

export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return TRANSITIONS[from]?.includes(to) ?? false;
}

export function assertTransition(from: JobStatus, to: JobStatus): void {
  if (!canTransition(from, to)) throw new IllegalJobTransitionError(from, to);
}

export function isTerminal(status: JobStatus): boolean {
  return TRANSITIONS[status]?.length === 0;
}

/** Every state from which `to` may be reached (the WHERE of a guarded UPDATE). */
export function sourcesOf(to: JobStatus): JobStatus[] {
  return (Object.keys(TRANSITIONS) as JobStatus[]).filter((from) => TRANSITIONS[from].includes(to));
}

/** The terminal state an agent's outcome leads to. */
export function statusForOutcome(outcome: ReportedOutcome): JobStatus {
  return outcome;
}
