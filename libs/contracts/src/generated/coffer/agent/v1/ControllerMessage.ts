// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Welcome as _coffer_agent_v1_Welcome, Welcome__Output as _coffer_agent_v1_Welcome__Output } from '../../../coffer/agent/v1/Welcome';
import type { RunJob as _coffer_agent_v1_RunJob, RunJob__Output as _coffer_agent_v1_RunJob__Output } from '../../../coffer/agent/v1/RunJob';
import type { CancelJob as _coffer_agent_v1_CancelJob, CancelJob__Output as _coffer_agent_v1_CancelJob__Output } from '../../../coffer/agent/v1/CancelJob';
import type { Ping as _coffer_agent_v1_Ping, Ping__Output as _coffer_agent_v1_Ping__Output } from '../../../coffer/agent/v1/Ping';
import type { JobFinishedAck as _coffer_agent_v1_JobFinishedAck, JobFinishedAck__Output as _coffer_agent_v1_JobFinishedAck__Output } from '../../../coffer/agent/v1/JobFinishedAck';

export interface ControllerMessage {
  'welcome'?: (_coffer_agent_v1_Welcome | null);
  'runJob'?: (_coffer_agent_v1_RunJob | null);
  'cancelJob'?: (_coffer_agent_v1_CancelJob | null);
  'ping'?: (_coffer_agent_v1_Ping | null);
  'jobFinishedAck'?: (_coffer_agent_v1_JobFinishedAck | null);
  'body'?: "welcome"|"runJob"|"cancelJob"|"ping"|"jobFinishedAck";
}

export interface ControllerMessage__Output {
  'welcome'?: (_coffer_agent_v1_Welcome__Output | null);
  'runJob'?: (_coffer_agent_v1_RunJob__Output | null);
  'cancelJob'?: (_coffer_agent_v1_CancelJob__Output | null);
  'ping'?: (_coffer_agent_v1_Ping__Output | null);
  'jobFinishedAck'?: (_coffer_agent_v1_JobFinishedAck__Output | null);
  'body'?: "welcome"|"runJob"|"cancelJob"|"ping"|"jobFinishedAck";
}
