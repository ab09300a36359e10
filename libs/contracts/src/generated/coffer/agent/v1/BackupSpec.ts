// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Source as _coffer_agent_v1_Source, Source__Output as _coffer_agent_v1_Source__Output } from '../../../coffer/agent/v1/Source';

export interface BackupSpec {
  'policyName'?: (string);
  'sources'?: (_coffer_agent_v1_Source)[];
  'tags'?: (string)[];
}

export interface BackupSpec__Output {
  'policyName': (string);
  'sources': (_coffer_agent_v1_Source__Output)[];
  'tags': (string)[];
}
