// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { JobKind as _coffer_agent_v1_JobKind, JobKind__Output as _coffer_agent_v1_JobKind__Output } from '../../../coffer/agent/v1/JobKind';
import type { RepositoryAccess as _coffer_agent_v1_RepositoryAccess, RepositoryAccess__Output as _coffer_agent_v1_RepositoryAccess__Output } from '../../../coffer/agent/v1/RepositoryAccess';
import type { BackupSpec as _coffer_agent_v1_BackupSpec, BackupSpec__Output as _coffer_agent_v1_BackupSpec__Output } from '../../../coffer/agent/v1/BackupSpec';
import type { RestoreSpec as _coffer_agent_v1_RestoreSpec, RestoreSpec__Output as _coffer_agent_v1_RestoreSpec__Output } from '../../../coffer/agent/v1/RestoreSpec';
import type { ForgetSpec as _coffer_agent_v1_ForgetSpec, ForgetSpec__Output as _coffer_agent_v1_ForgetSpec__Output } from '../../../coffer/agent/v1/ForgetSpec';
import type { PruneSpec as _coffer_agent_v1_PruneSpec, PruneSpec__Output as _coffer_agent_v1_PruneSpec__Output } from '../../../coffer/agent/v1/PruneSpec';
import type { CheckSpec as _coffer_agent_v1_CheckSpec, CheckSpec__Output as _coffer_agent_v1_CheckSpec__Output } from '../../../coffer/agent/v1/CheckSpec';
import type { VerifySpec as _coffer_agent_v1_VerifySpec, VerifySpec__Output as _coffer_agent_v1_VerifySpec__Output } from '../../../coffer/agent/v1/VerifySpec';

export interface RunJob {
  'jobId'?: (string);
  'kind'?: (_coffer_agent_v1_JobKind);
  'repository'?: (_coffer_agent_v1_RepositoryAccess | null);
  'timeoutSeconds'?: (number);
  'attempt'?: (number);
  'backup'?: (_coffer_agent_v1_BackupSpec | null);
  'restore'?: (_coffer_agent_v1_RestoreSpec | null);
  'forget'?: (_coffer_agent_v1_ForgetSpec | null);
  'prune'?: (_coffer_agent_v1_PruneSpec | null);
  'check'?: (_coffer_agent_v1_CheckSpec | null);
  'verify'?: (_coffer_agent_v1_VerifySpec | null);
  'spec'?: "backup"|"restore"|"forget"|"prune"|"check"|"verify";
}

export interface RunJob__Output {
  'jobId': (string);
  'kind': (_coffer_agent_v1_JobKind__Output);
  'repository': (_coffer_agent_v1_RepositoryAccess__Output | null);
  'timeoutSeconds': (number);
  'attempt': (number);
  'backup'?: (_coffer_agent_v1_BackupSpec__Output | null);
  'restore'?: (_coffer_agent_v1_RestoreSpec__Output | null);
  'forget'?: (_coffer_agent_v1_ForgetSpec__Output | null);
  'prune'?: (_coffer_agent_v1_PruneSpec__Output | null);
  'check'?: (_coffer_agent_v1_CheckSpec__Output | null);
  'verify'?: (_coffer_agent_v1_VerifySpec__Output | null);
  'spec'?: "backup"|"restore"|"forget"|"prune"|"check"|"verify";
}
