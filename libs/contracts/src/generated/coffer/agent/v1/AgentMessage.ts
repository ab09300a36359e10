// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type { Hello as _coffer_agent_v1_Hello, Hello__Output as _coffer_agent_v1_Hello__Output } from '../../../coffer/agent/v1/Hello';
import type { Heartbeat as _coffer_agent_v1_Heartbeat, Heartbeat__Output as _coffer_agent_v1_Heartbeat__Output } from '../../../coffer/agent/v1/Heartbeat';
import type { JobAccepted as _coffer_agent_v1_JobAccepted, JobAccepted__Output as _coffer_agent_v1_JobAccepted__Output } from '../../../coffer/agent/v1/JobAccepted';
import type { JobProgress as _coffer_agent_v1_JobProgress, JobProgress__Output as _coffer_agent_v1_JobProgress__Output } from '../../../coffer/agent/v1/JobProgress';
import type { JobFinished as _coffer_agent_v1_JobFinished, JobFinished__Output as _coffer_agent_v1_JobFinished__Output } from '../../../coffer/agent/v1/JobFinished';
import type { Pong as _coffer_agent_v1_Pong, Pong__Output as _coffer_agent_v1_Pong__Output } from '../../../coffer/agent/v1/Pong';

export interface AgentMessage {
  'hello'?: (_coffer_agent_v1_Hello | null);
  'heartbeat'?: (_coffer_agent_v1_Heartbeat | null);
  'jobAccepted'?: (_coffer_agent_v1_JobAccepted | null);
  'jobProgress'?: (_coffer_agent_v1_JobProgress | null);
  'jobFinished'?: (_coffer_agent_v1_JobFinished | null);
  'pong'?: (_coffer_agent_v1_Pong | null);
  'body'?: "hello"|"heartbeat"|"jobAccepted"|"jobProgress"|"jobFinished"|"pong";
}

export interface AgentMessage__Output {
  'hello'?: (_coffer_agent_v1_Hello__Output | null);
  'heartbeat'?: (_coffer_agent_v1_Heartbeat__Output | null);
  'jobAccepted'?: (_coffer_agent_v1_JobAccepted__Output | null);
  'jobProgress'?: (_coffer_agent_v1_JobProgress__Output | null);
  'jobFinished'?: (_coffer_agent_v1_JobFinished__Output | null);
  'pong'?: (_coffer_agent_v1_Pong__Output | null);
  'body'?: "hello"|"heartbeat"|"jobAccepted"|"jobProgress"|"jobFinished"|"pong";
}
