// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Capabilities as _coffer_agent_v1_Capabilities, Capabilities__Output as _coffer_agent_v1_Capabilities__Output } from '../../../coffer/agent/v1/Capabilities';
import type { Health as _coffer_agent_v1_Health, Health__Output as _coffer_agent_v1_Health__Output } from '../../../coffer/agent/v1/Health';

export interface Hello {
  'agentVersion'?: (string);
  'capabilities'?: (_coffer_agent_v1_Capabilities | null);
  'runningJobIds'?: (string)[];
  'health'?: (_coffer_agent_v1_Health | null);
}

export interface Hello__Output {
  'agentVersion': (string);
  'capabilities': (_coffer_agent_v1_Capabilities__Output | null);
  'runningJobIds': (string)[];
  'health': (_coffer_agent_v1_Health__Output | null);
}
