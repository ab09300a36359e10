// Original file: proto/coffer/agent/v1/agent_gateway.proto

export const JobKind = {
  JOB_KIND_UNSPECIFIED: 'JOB_KIND_UNSPECIFIED',
  JOB_KIND_BACKUP: 'JOB_KIND_BACKUP',
  JOB_KIND_RESTORE: 'JOB_KIND_RESTORE',
  JOB_KIND_FORGET: 'JOB_KIND_FORGET',
  JOB_KIND_PRUNE: 'JOB_KIND_PRUNE',
  JOB_KIND_CHECK: 'JOB_KIND_CHECK',
  JOB_KIND_VERIFY: 'JOB_KIND_VERIFY',
} as const;

export type JobKind =
  | 'JOB_KIND_UNSPECIFIED'
  | 0
  | 'JOB_KIND_BACKUP'
  | 1
  | 'JOB_KIND_RESTORE'
  | 2
  | 'JOB_KIND_FORGET'
  | 3
  | 'JOB_KIND_PRUNE'
  | 4
  | 'JOB_KIND_CHECK'
  | 5
  | 'JOB_KIND_VERIFY'
  | 6

export type JobKind__Output = typeof JobKind[keyof typeof JobKind]
