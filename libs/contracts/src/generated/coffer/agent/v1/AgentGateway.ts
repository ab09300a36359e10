// Original file: proto/coffer/agent/v1/agent_gateway.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AgentMessage as _coffer_agent_v1_AgentMessage, AgentMessage__Output as _coffer_agent_v1_AgentMessage__Output } from '../../../coffer/agent/v1/AgentMessage';
import type { ControllerMessage as _coffer_agent_v1_ControllerMessage, ControllerMessage__Output as _coffer_agent_v1_ControllerMessage__Output } from '../../../coffer/agent/v1/ControllerMessage';
import type { EnrollRequest as _coffer_agent_v1_EnrollRequest, EnrollRequest__Output as _coffer_agent_v1_EnrollRequest__Output } from '../../../coffer/agent/v1/EnrollRequest';
import type { EnrollResponse as _coffer_agent_v1_EnrollResponse, EnrollResponse__Output as _coffer_agent_v1_EnrollResponse__Output } from '../../../coffer/agent/v1/EnrollResponse';

export interface AgentGatewayClient extends grpc.Client {
  Connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_coffer_agent_v1_AgentMessage, _coffer_agent_v1_ControllerMessage__Output>;
  Connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_coffer_agent_v1_AgentMessage, _coffer_agent_v1_ControllerMessage__Output>;
  connect(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_coffer_agent_v1_AgentMessage, _coffer_agent_v1_ControllerMessage__Output>;
  connect(options?: grpc.CallOptions): grpc.ClientDuplexStream<_coffer_agent_v1_AgentMessage, _coffer_agent_v1_ControllerMessage__Output>;
  
  Enroll(argument: _coffer_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _coffer_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _coffer_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  Enroll(argument: _coffer_agent_v1_EnrollRequest, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _coffer_agent_v1_EnrollRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _coffer_agent_v1_EnrollRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _coffer_agent_v1_EnrollRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  enroll(argument: _coffer_agent_v1_EnrollRequest, callback: grpc.requestCallback<_coffer_agent_v1_EnrollResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AgentGatewayHandlers extends grpc.UntypedServiceImplementation {
  Connect: grpc.handleBidiStreamingCall<_coffer_agent_v1_AgentMessage__Output, _coffer_agent_v1_ControllerMessage>;
  
  Enroll: grpc.handleUnaryCall<_coffer_agent_v1_EnrollRequest__Output, _coffer_agent_v1_EnrollResponse>;
  
}

export interface AgentGatewayDefinition extends grpc.ServiceDefinition {
  Connect: MethodDefinition<_coffer_agent_v1_AgentMessage, _coffer_agent_v1_ControllerMessage, _coffer_agent_v1_AgentMessage__Output, _coffer_agent_v1_ControllerMessage__Output>
  Enroll: MethodDefinition<_coffer_agent_v1_EnrollRequest, _coffer_agent_v1_EnrollResponse, _coffer_agent_v1_EnrollRequest__Output, _coffer_agent_v1_EnrollResponse__Output>
}
