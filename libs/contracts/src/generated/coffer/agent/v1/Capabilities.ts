// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { JobKind as _coffer_agent_v1_JobKind, JobKind__Output as _coffer_agent_v1_JobKind__Output } from '../../../coffer/agent/v1/JobKind';

export interface Capabilities {
  'jobKinds'?: (_coffer_agent_v1_JobKind)[];
  'sourceKinds'?: (string)[];
}

export interface Capabilities__Output {
  'jobKinds': (_coffer_agent_v1_JobKind__Output)[];
  'sourceKinds': (string)[];
}
