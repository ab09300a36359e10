// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Health as _coffer_agent_v1_Health, Health__Output as _coffer_agent_v1_Health__Output } from '../../../coffer/agent/v1/Health';

export interface Heartbeat {
  'health'?: (_coffer_agent_v1_Health | null);
  'runningJobIds'?: (string)[];
}

export interface Heartbeat__Output {
  'health': (_coffer_agent_v1_Health__Output | null);
  'runningJobIds': (string)[];
}
