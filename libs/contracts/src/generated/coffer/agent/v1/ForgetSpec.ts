// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Retention as _coffer_agent_v1_Retention, Retention__Output as _coffer_agent_v1_Retention__Output } from '../../../coffer/agent/v1/Retention';

export interface ForgetSpec {
  'retention'?: (_coffer_agent_v1_Retention | null);
  'tag'?: (string);
  'host'?: (string);
}

export interface ForgetSpec__Output {
  'retention': (_coffer_agent_v1_Retention__Output | null);
  'tag': (string);
  'host': (string);
}
