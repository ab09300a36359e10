// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Source as _coffer_agent_v1_Source, Source__Output as _coffer_agent_v1_Source__Output } from '../../../coffer/agent/v1/Source';
import type { Hooks as _coffer_agent_v1_Hooks, Hooks__Output as _coffer_agent_v1_Hooks__Output } from '../../../coffer/agent/v1/Hooks';

export interface BackupSpec {
  'policyName'?: (string);
  'sources'?: (_coffer_agent_v1_Source)[];
  'tags'?: (string)[];
  'hooks'?: (_coffer_agent_v1_Hooks | null);
}

export interface BackupSpec__Output {
  'policyName': (string);
  'sources': (_coffer_agent_v1_Source__Output)[];
  'tags': (string)[];
  'hooks': (_coffer_agent_v1_Hooks__Output | null);
}
