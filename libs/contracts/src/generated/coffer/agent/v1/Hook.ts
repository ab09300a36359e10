// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { HookFailureMode as _coffer_agent_v1_HookFailureMode, HookFailureMode__Output as _coffer_agent_v1_HookFailureMode__Output } from '../../../coffer/agent/v1/HookFailureMode';

export interface Hook {
  'run'?: (string);
  'timeoutSeconds'?: (number);
  'onFailure'?: (_coffer_agent_v1_HookFailureMode);
}

export interface Hook__Output {
  'run': (string);
  'timeoutSeconds': (number);
  'onFailure': (_coffer_agent_v1_HookFailureMode__Output);
}
