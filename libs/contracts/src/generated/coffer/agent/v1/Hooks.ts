// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Hook as _coffer_agent_v1_Hook, Hook__Output as _coffer_agent_v1_Hook__Output } from '../../../coffer/agent/v1/Hook';

export interface Hooks {
  'before'?: (_coffer_agent_v1_Hook)[];
  'after'?: (_coffer_agent_v1_Hook)[];
}

export interface Hooks__Output {
  'before': (_coffer_agent_v1_Hook__Output)[];
  'after': (_coffer_agent_v1_Hook__Output)[];
}
