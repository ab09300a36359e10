// Original file: proto/coffer/agent/v1/agent_gateway.proto

export const JobOutcome = {
  JOB_OUTCOME_UNSPECIFIED: 'JOB_OUTCOME_UNSPECIFIED',
  JOB_OUTCOME_SUCCEEDED: 'JOB_OUTCOME_SUCCEEDED',
  JOB_OUTCOME_FAILED: 'JOB_OUTCOME_FAILED',
  JOB_OUTCOME_CANCELLED: 'JOB_OUTCOME_CANCELLED',
  JOB_OUTCOME_TIMED_OUT: 'JOB_OUTCOME_TIMED_OUT',
} as const;

export type JobOutcome =
  | 'JOB_OUTCOME_UNSPECIFIED'
  | 0
  | 'JOB_OUTCOME_SUCCEEDED'
  | 1
  | 'JOB_OUTCOME_FAILED'
  | 2
  | 'JOB_OUTCOME_CANCELLED'
  | 3
  | 'JOB_OUTCOME_TIMED_OUT'
  | 4

export type JobOutcome__Output = typeof JobOutcome[keyof typeof JobOutcome]
