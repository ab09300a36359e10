// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { DatabaseTarget as _coffer_agent_v1_DatabaseTarget, DatabaseTarget__Output as _coffer_agent_v1_DatabaseTarget__Output } from '../../../coffer/agent/v1/DatabaseTarget';
import type { Hooks as _coffer_agent_v1_Hooks, Hooks__Output as _coffer_agent_v1_Hooks__Output } from '../../../coffer/agent/v1/Hooks';

export interface RestoreSpec {
  'snapshotId'?: (string);
  'targetDir'?: (string);
  'include'?: (string)[];
  'database'?: (_coffer_agent_v1_DatabaseTarget | null);
  'hooks'?: (_coffer_agent_v1_Hooks | null);
}

export interface RestoreSpec__Output {
  'snapshotId': (string);
  'targetDir': (string);
  'include': (string)[];
  'database': (_coffer_agent_v1_DatabaseTarget__Output | null);
  'hooks': (_coffer_agent_v1_Hooks__Output | null);
}
